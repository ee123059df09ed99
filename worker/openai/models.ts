/** `GET /v1/models` and `GET /v1/models/:id`: the one model this Worker serves. */
import type { Handler } from "hono";
import type { AppEnv } from "../context.js";
import type { Env } from "../env.js";
import type { ServedModels } from "../model/index.js";
import { ApiError } from "./errors.js";

/** OpenAI's model object. */
export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

function modelObject(env: Env, store: ServedModels | undefined): ModelObject {
  const loaded = store?.current();
  return {
    id: env.MODEL_NAME,
    object: "model",
    created: loaded ? Math.floor(loaded.loadedAt / 1000) : 0,
    owned_by: "sande-edge",
  };
}

/** Handler factory for `GET /v1/models`. */
export function listModels(models: (env: Env) => ServedModels): Handler<AppEnv> {
  return function listModelsHandler(c) {
    return c.json({ object: "list", data: [modelObject(c.env, tryStore(models, c.env))] });
  };
}

/** Handler factory for `GET /v1/models/:id`. */
export function retrieveModel(models: (env: Env) => ServedModels): Handler<AppEnv> {
  return function retrieveModelHandler(c) {
    const id = c.req.param("id");
    if (id !== c.env.MODEL_NAME)
      throw new ApiError(404, "invalid_request_error", `The model '${id}' does not exist.`, "model", "model_not_found");
    return c.json(modelObject(c.env, tryStore(models, c.env)));
  };
}

/** The store if configured (listing models must not fail on store settings). */
function tryStore(models: (env: Env) => ServedModels, env: Env): ServedModels | undefined {
  try {
    return models(env);
  } catch {
    return undefined;
  }
}
