/**
 * Picks the TensorFlow.js backend for training: native TensorFlow (tfjs-node-gpu, then tfjs-node),
 * WebGPU when an adapter exists, then wasm, then cpu. Every loader is a small function in
 * `BackendProbes`, so tests can simulate a machine without one.
 *
 * wasm threads: off. The threaded binary cannot start in Node (Emscripten spawns its pthread
 * workers from `blob:` URLs, which Node's Worker rejects with ERR_WORKER_PATH; tfjs itself disables
 * it in Node, tfjs#3830), and tfjs-wasm 4.22 runs XNNPACK's matMul without its thread pool anyway,
 * so the matMul-bound training step could not get faster from threads. Measured on this 2-core box:
 * forcing WASM_HAS_MULTITHREAD_SUPPORT fails backend init; the SIMD single-thread binary runs
 * XNNPACK gemm at ~25-30 GFLOP/s.
 */
import * as tf from "@tensorflow/tfjs-core";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureGradients } from "./gradients.js";

/** What the caller asked for. */
export type BackendChoice = "auto" | "tensorflow" | "webgpu" | "wasm" | "cpu";

/** The choices in auto order, for CLI help. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "tensorflow", "webgpu", "wasm", "cpu"];

/** One backend that was tried and could not be used. */
export interface BackendAttempt {
  name: string;
  error: string;
}

/** The backend now active, why, and what failed before it. */
export interface BackendSelection {
  /** tfjs backend name now active: "tensorflow" | "webgpu" | "wasm" | "cpu". */
  backend: string;
  /** One line for the log, e.g. "wasm (SIMD, 1 thread): no WebGPU adapter". */
  reason: string;
  tried: BackendAttempt[];
}

/** Loaders, one per backend; each registers its backend with tfjs or throws saying why it cannot. */
export interface BackendProbes {
  /** Imports a tfjs-node package (which registers the "tensorflow" backend). */
  loadTfjsNode(pkg: "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node"): Promise<void>;
  /** Sets up WebGPU in Node and imports tfjs-backend-webgpu; throws when there is no adapter. */
  loadWebgpu(): Promise<string>;
  /** Imports tfjs-backend-wasm with its .wasm files located in node_modules; returns a description. */
  loadWasm(): Promise<string>;
  /** Imports tfjs-backend-cpu. */
  loadCpu(): Promise<void>;
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0];
}

/** Dynamic import of a package that may not be installed (a variable keeps tsc from resolving it). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** The real loaders. */
export const defaultProbes: BackendProbes = {
  async loadTfjsNode(pkg) {
    await importOptional(pkg);
    if (!tf.findBackendFactory("tensorflow"))
      throw new Error(`${pkg} loaded but registered no "tensorflow" backend (tfjs-core version mismatch?)`);
  },

  async loadWebgpu() {
    const webgpu = (await importOptional("webgpu")) as { create(options: string[]): GPU; globals: object };
    // dawn's constants (GPUBufferUsage, …) must be globals for tfjs-backend-webgpu.
    Object.assign(globalThis, webgpu.globals);
    gpu ??= webgpu.create([]); // one dawn instance per process
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter (no usable GPU driver)");
    // tfjs-backend-webgpu registers itself only if navigator.gpu exists when its module is evaluated.
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
    await importOptional("@tensorflow/tfjs-backend-webgpu");
    if (!tf.findBackendFactory("webgpu"))
      throw new Error("tfjs-backend-webgpu did not register (navigator.gpu missing at import?)");
    const info = (adapter as GPUAdapter & { info?: { vendor?: string; architecture?: string } }).info;
    return info?.vendor ? `${info.vendor} ${info.architecture ?? ""}`.trim() : "adapter found";
  },

  async loadWasm() {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dir = wasmDirectory();
    if (!wasmPathsSet) {
      wasm.setWasmPaths(dir + path.sep); // must precede the backend's first initialisation
      wasmPathsSet = true;
    }
    return "SIMD, 1 thread";
  },

  async loadCpu() {
    await import("@tensorflow/tfjs-backend-cpu");
  },
};

/**
 * Where tfjs-backend-wasm's .wasm binaries are: next to the package's main file in node_modules,
 * or, in a bundle without node_modules (the GPU kit, bench/device/), next to the bundle itself.
 */
function wasmDirectory(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"));
  } catch (e) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    if (existsSync(path.join(here, WASM_SIMD_FILE))) return here;
    throw e;
  }
}

const WASM_SIMD_FILE = "tfjs-backend-wasm-simd.wasm";

let wasmPathsSet = false;
let gpu: GPU | undefined;

/** Activates `name`; throws with tfjs's reason when its initialisation fails. */
async function activate(name: string): Promise<void> {
  const errors: string[] = [];
  const warn = console.warn;
  // tfjs reports backend init failures through console.warn and returns false; keep the message.
  console.warn = (...args: unknown[]) => {
    errors.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    if (ok) await tf.ready(); // after a failed setBackend, ready() would throw a message without tfjs's reason
  } finally {
    console.warn = warn;
  }
  if (!ok || tf.getBackend() !== name) {
    throw new Error(
      `backend "${name}" failed to initialise${errors.length ? `: ${errors.map((e) => e.split("\n")[0]).join("; ")}` : ""}`,
    );
  }
}

/**
 * Activates a backend. `auto` tries tensorflow (tfjs-node-gpu, then tfjs-node), webgpu, wasm, cpu
 * in that order and reports each failure in `tried`; an explicit choice that cannot load throws a
 * message naming why.
 */
export async function selectBackend(
  choice: BackendChoice = "auto",
  probes: BackendProbes = defaultProbes,
): Promise<BackendSelection> {
  await ensureGradients(); // training needs autodiff on every backend
  const tried: BackendAttempt[] = [];
  const attempt = async (
    name: string,
    label: string,
    load: () => Promise<string | void>,
  ): Promise<BackendSelection | null> => {
    try {
      const detail = await load();
      await activate(name);
      // The cpu backend prints a "use tfjs-node" banner on first use; we already said what we chose.
      if (name === "cpu") (tf.backend() as { firstUse?: boolean }).firstUse = false;
      const skipped = tried.length ? `; skipped ${tried.map((t) => `${t.name} (${t.error})`).join(", ")}` : "";
      return {
        backend: name,
        reason: `${label}${detail ? ` (${detail})` : ""}${choice === "auto" ? `: auto${skipped}` : ": requested"}`,
        tried,
      };
    } catch (e) {
      tried.push({ name: label, error: message(e) });
      return null;
    }
  };

  const candidates: Record<Exclude<BackendChoice, "auto">, [string, string, () => Promise<string | void>][]> = {
    tensorflow: [
      ["tensorflow", "tfjs-node-gpu", () => probes.loadTfjsNode("@tensorflow/tfjs-node-gpu")],
      ["tensorflow", "tfjs-node", () => probes.loadTfjsNode("@tensorflow/tfjs-node")],
    ],
    webgpu: [["webgpu", "webgpu", () => probes.loadWebgpu()]],
    wasm: [["wasm", "wasm", () => probes.loadWasm()]],
    cpu: [["cpu", "cpu", () => probes.loadCpu()]],
  };
  const order = choice === "auto" ? (["tensorflow", "webgpu", "wasm", "cpu"] as const) : [choice];
  for (const key of order) {
    for (const [name, label, load] of candidates[key]) {
      const got = await attempt(name, label, load);
      if (got) return got;
    }
  }
  const why = tried.map((t) => `${t.name}: ${t.error}`).join("; ");
  throw new Error(
    choice === "auto" ? `no TensorFlow.js backend could load (${why})` : `backend "${choice}" is not available: ${why}`,
  );
}
