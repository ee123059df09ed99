// Entry of a greedy worker thread: TypeScript through tsx's loader, then the decoding loop.
import { register } from "tsx/esm/api";

register();
await import("./greedy-worker.ts");
