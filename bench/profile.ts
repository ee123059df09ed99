/** Per-kernel timing of a tfjs computation (wall time per kernel; exact on synchronous backends like wasm and cpu). */
import * as tf from "@tensorflow/tfjs-core";

/** Time spent in one kernel name over a profiled run. */
export interface KernelTime {
  name: string;
  calls: number;
  ms: number;
}

/**
 * Runs `f` under `tf.profile` and sums time by kernel name. Only registered kernels count: a
 * `tf.customGrad` body shows up as a scope that contains kernels already counted.
 */
export async function kernelTimes(f: () => void): Promise<{ kernels: KernelTime[]; totalMs: number; wallMs: number }> {
  const backend = tf.getBackend();
  const t0 = performance.now();
  const info = await tf.profile(() => {
    f();
    return [];
  });
  const wallMs = performance.now() - t0;
  const byName = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    if (!tf.getKernel(k.name, backend)) continue;
    const e = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
    e.calls++;
    e.ms += Number(k.kernelTimeMs);
    byName.set(k.name, e);
  }
  const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms);
  return { kernels, totalMs: kernels.reduce((s, k) => s + k.ms, 0), wallMs };
}

/** A plain-text table of the top kernels, with share of kernel time. */
export function formatKernelTable(
  title: string,
  r: { kernels: KernelTime[]; totalMs: number; wallMs: number },
  top = 15,
): string {
  const lines = [`${title}: kernels ${r.totalMs.toFixed(0)} ms of ${r.wallMs.toFixed(0)} ms wall (profiled)`];
  lines.push(`  ${"kernel".padEnd(24)} ${"calls".padStart(6)} ${"ms".padStart(9)} ${"share".padStart(6)}`);
  for (const k of r.kernels.slice(0, top)) {
    lines.push(
      `  ${k.name.padEnd(24)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(1).padStart(9)} ${((100 * k.ms) / r.totalMs).toFixed(1).padStart(5)}%`,
    );
  }
  const rest = r.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, k) => s + k.ms, 0);
    lines.push(
      `  ${`(${rest.length} others)`.padEnd(24)} ${String(rest.reduce((s, k) => s + k.calls, 0)).padStart(6)} ${ms.toFixed(1).padStart(9)} ${((100 * ms) / r.totalMs).toFixed(1).padStart(5)}%`,
    );
  }
  return lines.join("\n");
}
