import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { defaultProbes, selectBackend, type BackendProbes } from "../../trainer/tf/backend.js";

const missing = (what: string) => async (): Promise<never> => {
  throw new Error(`${what} missing (simulated)`);
};

describe("selectBackend", () => {
  // tfjs-node-gpu is an optionalDependency that cannot install on this machine: a real test of the fallback.
  it("auto falls back past tfjs-node-gpu and tfjs-node and reports why each failed", async () => {
    const sel = await selectBackend("auto");
    expect(sel.tried[0].name).toBe("tfjs-node-gpu");
    expect(sel.tried[0].error).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(sel.tried[1].name).toBe("tfjs-node");
    expect(["webgpu", "wasm", "cpu"]).toContain(sel.backend);
    expect(tf.getBackend()).toBe(sel.backend);
    expect(sel.reason).toMatch(/auto; skipped tfjs-node-gpu \(/);
    expect(tf.add(tf.tensor([1, 2]), 1).arraySync()).toEqual([2, 3]);
  });

  it("explicit tensorflow throws a message naming why neither tfjs-node package loaded", async () => {
    await expect(selectBackend("tensorflow")).rejects.toThrow(
      /backend "tensorflow" is not available: tfjs-node-gpu: .*tfjs-node-gpu.*; tfjs-node: /,
    );
  });

  it("explicit cpu works and says it was requested", async () => {
    const sel = await selectBackend("cpu");
    expect(sel).toEqual({ backend: "cpu", reason: "cpu: requested", tried: [] });
    expect(tf.getBackend()).toBe("cpu");
    expect(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).arraySync()).toEqual([[11]]);
  });

  it("explicit wasm loads its .wasm files from node_modules", async () => {
    const sel = await selectBackend("wasm");
    expect(sel.backend).toBe("wasm");
    expect(sel.reason).toMatch(/^wasm \(SIMD, 1 thread\): requested/);
    expect(tf.sum(tf.tensor([1, 2, 3])).arraySync()).toBe(6);
  });

  it("simulated machine without tensorflow, GPU or wasm: auto lands on cpu and lists every failure", async () => {
    const probes: BackendProbes = {
      ...defaultProbes,
      loadTfjsNode: async (pkg) => missing(pkg)(),
      loadWebgpu: missing("no WebGPU adapter"),
      loadWasm: missing("wasm"),
    };
    const sel = await selectBackend("auto", probes);
    expect(sel.backend).toBe("cpu");
    expect(sel.tried.map((t) => t.name)).toEqual(["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm"]);
    expect(sel.tried[2].error).toBe("no WebGPU adapter missing (simulated)");
    expect(sel.reason).toMatch(/^cpu: auto; skipped tfjs-node-gpu \(@tensorflow\/tfjs-node-gpu missing/);
  });

  it("simulated tfjs-node present: auto takes it first", async () => {
    const loaded: string[] = [];
    const probes: BackendProbes = {
      ...defaultProbes,
      // Stand in for tfjs-node by registering a "tensorflow" backend that is really cpu.
      loadTfjsNode: async (pkg) => {
        if (pkg === "@tensorflow/tfjs-node-gpu") throw new Error("no CUDA (simulated)");
        loaded.push(pkg);
        if (!tf.findBackendFactory("tensorflow")) {
          const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu");
          tf.registerBackend("tensorflow", () => new MathBackendCPU());
          tf.copyRegisteredKernels("cpu", "tensorflow");
        }
      },
    };
    const sel = await selectBackend("auto", probes);
    expect(loaded).toEqual(["@tensorflow/tfjs-node"]);
    expect(sel.backend).toBe("tensorflow");
    expect(sel.tried).toEqual([{ name: "tfjs-node-gpu", error: "no CUDA (simulated)" }]);
    tf.removeBackend("tensorflow");
  });

  it("explicit webgpu either runs on an adapter or says why not", async () => {
    try {
      const sel = await selectBackend("webgpu");
      expect(sel.backend).toBe("webgpu");
    } catch (e) {
      expect((e as Error).message).toMatch(/^backend "webgpu" is not available: webgpu: /);
    }
  });
});
