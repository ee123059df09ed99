/** Wall time per stage of a job: the job's metrics carry it and `npm run bench:heal` prints it. */
import type { HealResult } from "./heal.js";

/** Wall seconds per stage. */
export interface StageSeconds {
  download: number;
  simulate: number;
  eliminate: number;
  gates: number;
  publish: number;
  swap: number;
}

/** Every stage at zero. */
export function noStageSeconds(): StageSeconds {
  return { download: 0, simulate: 0, eliminate: 0, gates: 0, publish: 0, swap: 0 };
}

/** Runs `run`, adding its wall time (also when it throws) to `stages[stage]`. */
export async function timed<T>(stages: StageSeconds, stage: keyof StageSeconds, run: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    stages[stage] += (performance.now() - t0) / 1000;
  }
}

/**
 * Adds a heal that took `wall` seconds: its stage 1 (and extension) to simulate, its stage 2 to
 * eliminate, the rest (SANDE's parrot probes and the later rounds' re-simulations) to gates.
 */
export function countHeal(stages: StageSeconds, result: HealResult, wall: number): void {
  stages.simulate += result.simulateSeconds;
  stages.eliminate += result.eliminateSeconds;
  stages.gates += Math.max(0, wall - result.simulateSeconds - result.eliminateSeconds);
}

/** `<stage>Seconds` metrics, rounded to 10 ms, for the stages in `only` (default: all). */
export function stageData(
  stages: StageSeconds,
  only: (keyof StageSeconds)[] = Object.keys(stages) as (keyof StageSeconds)[],
): Record<string, number> {
  return Object.fromEntries(only.map((k) => [`${k}Seconds`, Math.round(stages[k] * 100) / 100]));
}
