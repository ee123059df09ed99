/**
 * Registers tfjs-core's own gradient functions (autodiff for Reshape, MatMul, Softmax, …).
 *
 * They are not in tfjs-core's Node (CommonJS) build; the union package @tensorflow/tfjs normally
 * imports them from tfjs-core's ESM files, whose relative imports omit the ".js" extension and so do
 * not resolve in Node. We add a resolve hook scoped to those files (append ".js" or "/index.js"
 * when Node's own resolution fails) and import `dist/register_all_gradients.js`. That ESM copy of
 * tfjs-core shares the global engine and kernel/gradient registries with the CommonJS copy, so the
 * gradients land where the engine looks.
 */
import * as tf from "@tensorflow/tfjs-core";
import { register } from "node:module";

const HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const parent = context.parentURL ?? "";
    if (parent.includes("/@tensorflow/tfjs-core/dist/") && (specifier.startsWith("./") || specifier.startsWith("../"))) {
      for (const s of [specifier + ".js", specifier + "/index.js"]) {
        try { return await next(s, context); } catch {}
      }
    }
    throw e;
  }
}`;

let loading: Promise<void> | null = null;

/** True once tfjs-core's gradients are registered. */
export function gradientsRegistered(): boolean {
  return tf.getGradient("Reshape") != null && tf.getGradient("BatchMatMul") != null;
}

/** Registers tfjs-core's gradients (once; cheap when already done). */
export function ensureGradients(): Promise<void> {
  if (gradientsRegistered()) return Promise.resolve();
  loading ??= (async () => {
    register("data:text/javascript," + encodeURIComponent(HOOK));
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    if (!gradientsRegistered())
      throw new Error("tfjs-core gradients did not register (two tfjs-core versions installed?)");
  })();
  return loading;
}
