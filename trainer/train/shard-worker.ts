/**
 * One training worker thread: builds the objective from its recipe on its own TensorFlow.js
 * backend (its own wasm instance), then answers steps: load the trainable values the main thread
 * wrote into shared memory, compute loss and gradients on the rows it was sent, write the gradients
 * into its shared buffer. The optimiser runs on the main thread (`loop.ts`).
 */
import { parentPort } from "node:worker_threads";
import type { Batch } from "../data/index.js";
import { selectBackend, type BackendChoice } from "../tf/backend.js";
import { assignValues, type Objective, type ObjectiveRecipe } from "./objective.js";
import { buildObjective } from "./objective-builders.js";
import type { ShardReply, ShardRequest } from "./shard-protocol.js";
import { packInto, unpack } from "./shard-protocol.js";

if (!parentPort) throw new Error("shard-worker.ts runs as a worker thread");
const port = parentPort;

let objective: Objective | null = null;
let values: Float32Array | null = null;
let grads: Float32Array | null = null;
let sizes: number[] = [];

async function build(recipe: ObjectiveRecipe, backend: string): Promise<Objective> {
  await selectBackend(backend as BackendChoice);
  return buildObjective(recipe);
}

function step(batch: Batch, sync: boolean): ShardReply {
  if (!objective || !values || !grads) throw new Error("training worker: step before init");
  if (sync) assignValues(objective, unpack(values, sizes));
  const r = objective.compute(batch);
  packInto(grads, r.grads, sizes);
  return { kind: "step", loss: r.loss, weight: r.weight };
}

port.on("message", (request: ShardRequest) => {
  void (async () => {
    try {
      if (request.kind === "init") {
        objective?.dispose();
        objective = await build(request.recipe, request.backend);
        sizes = objective.params.map((p) => p.variable.size);
        const mine = sizes.join(",");
        if (mine !== request.sizes.join(","))
          throw new Error(`training worker: the objective's parameter sizes [${mine}] differ from the main thread's`);
        values = new Float32Array(request.values);
        grads = new Float32Array(request.grads);
        port.postMessage({ kind: "ready" } satisfies ShardReply);
      } else {
        port.postMessage(step(request.batch, request.sync));
      }
    } catch (e) {
      port.postMessage({
        kind: "error",
        message: e instanceof Error ? (e.stack ?? e.message) : String(e),
      } satisfies ShardReply);
    }
  })();
});
