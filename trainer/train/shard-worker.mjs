// Entry of a training worker thread: TypeScript through tsx's loader, then the shard loop.
import { register } from "tsx/esm/api";

register();
await import("./shard-worker.ts");
