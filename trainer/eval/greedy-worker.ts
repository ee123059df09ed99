/** One greedy worker thread (`greedy-pool.ts`): rebuilds the model it is sent and decodes its share of the prompts. */
import { parentPort } from "node:worker_threads";
import { GPTInference } from "../../shared/inference/index.js";
import { decodeGreedy, type GreedyJob, type GreedyReply } from "./greedy-protocol.js";

if (!parentPort) throw new Error("greedy-worker.ts runs as a worker thread");
const port = parentPort;

port.on("message", (job: GreedyJob) => {
  let reply: GreedyReply;
  try {
    reply = {
      kind: "texts",
      texts: decodeGreedy(new GPTInference(job.config, job.weights, { softTokens: job.softTokens }), job.requests),
    };
  } catch (e) {
    reply = { kind: "error", message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
