/**
 * Every objective a training worker thread can build, by the name its recipe gives
 * (`ObjectiveRecipe.exportName`). The worker's entry looks the builder up here instead of importing
 * a module by URL, so a bundle (the GPU kit, bench/device/) holds the builders in the worker's own
 * file. An objective with a `remote` recipe must be listed.
 */
import { buildAvoidLmObjective } from "../baselines/avoid-objective.js";
import { buildDpoObjective } from "../baselines/dpo-objective.js";
import { buildNadObjective } from "../baselines/nad-objective.js";
import { buildConsistencyObjective } from "../sande/consistency-objective.js";
import { buildParrotObjective } from "../sande/parrot-objective.js";
import { buildLmObjective } from "./lm-objective.js";
import type { Objective, ObjectiveRecipe } from "./objective.js";

const BUILDERS: Record<string, (snapshot: never) => Objective> = {
  buildAvoidLmObjective,
  buildConsistencyObjective,
  buildDpoObjective,
  buildLmObjective,
  buildNadObjective,
  buildParrotObjective,
};

/** Builds the objective `recipe` names from its snapshot; throws naming the known builders when it names none. */
export function buildObjective(recipe: ObjectiveRecipe): Objective {
  if (!Object.hasOwn(BUILDERS, recipe.exportName))
    throw new Error(
      `no objective builder ${JSON.stringify(recipe.exportName)} (known: ${Object.keys(BUILDERS).join(", ")})`,
    );
  return (BUILDERS[recipe.exportName] as (snapshot: unknown) => Objective)(recipe.snapshot);
}
