/**
 * The GPT-2 building blocks, twice: `naiveOps` is plain tfjs with autodiff (the reference, and what
 * runs on backends without our kernels); `fastOps` wraps the kernels of `kernels.ts` in
 * `tf.customGrad` with hand-written backward passes that only ever use fast kernels on wasm.
 * Both compute the same function; tests hold their values and gradients together.
 */
import * as tf from "@tensorflow/tfjs-core";
import { K, kernelsAvailable, registerKernels } from "./kernels.js";

/** The operations the model is written in. Shapes: B batch, T time, C width, V vocab. */
export interface GPTOps {
  /** Rows of `table` [V,C] at `ids` int32 [B,T] → [B,T,C]. */
  embed(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor3D;
  /** x [B,T,C] + pos[:T] for pos [P,C]. */
  addPositions(x: tf.Tensor3D, pos: tf.Tensor2D): tf.Tensor3D;
  /** LayerNorm over the last axis. */
  layerNorm(x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor3D;
  /** x [B,T,K]·w [K,N] + b [N] (HF Conv1D layout). */
  linear(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor3D;
  /** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  gelu(x: tf.Tensor3D): tf.Tensor3D;
  /** Causal multi-head self-attention from the fused projection qkv [B,T,3C] → [B,T,C] (before c_proj). */
  attention(qkv: tf.Tensor3D, nHead: number): tf.Tensor3D;
  /** Tied LM head: x [B,T,C]·wteᵀ → [B,T,V]. */
  head(x: tf.Tensor3D, wte: tf.Tensor2D): tf.Tensor3D;
  /** Σ ce·mask / max(1, Σ mask) for logits [B,T,V], targets int32 [B,T], mask float [B,T]. */
  crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;
const MASK_NEG = -1e9; // HF fills masked scores with the dtype's min; anything this low exps to 0

/** [T,T] additive causal mask (0 on and below the diagonal), kept per T. */
const maskCache = new Map<string, tf.Tensor2D>();
function causalMask(T: number): tf.Tensor2D {
  const key = `${tf.getBackend()}:${T}`;
  let m = maskCache.get(key);
  if (!m || m.isDisposed) {
    const data = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = MASK_NEG;
    m = tf.keep(tf.tensor2d(data, [T, T]));
    maskCache.set(key, m);
  }
  return m;
}

/** [B,T,3C] → q, k, v each [B·nh, T, hd] (heads are contiguous C/nh column chunks, HF order). */
function splitHeads(qkv: tf.Tensor3D, nHead: number): [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D] {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3,
    hd = C / nHead;
  const t = tf.transpose(tf.reshape(qkv, [B, T, 3, nHead, hd]), [2, 0, 3, 1, 4]); // [3,B,nh,T,hd]
  const [q, k, v] = tf.unstack(tf.reshape(t, [3, B * nHead, T, hd])) as tf.Tensor3D[];
  return [q, k, v];
}

/** [B·nh, T, hd] → [B,T,C]. */
function mergeHeads(x: tf.Tensor3D, B: number): tf.Tensor3D {
  const [BH, T, hd] = x.shape;
  const nHead = BH / B;
  return tf.reshape(tf.transpose(tf.reshape(x, [B, nHead, T, hd]), [0, 2, 1, 3]), [B, T, nHead * hd]);
}

// ---------------------------------------------------------------------------------------------
// Reference: plain tfjs, differentiated by tfjs.

/** Plain tfjs ops, gradients by autodiff. */
export const naiveOps: GPTOps = {
  embed: (table, ids) => tf.gather(table, ids) as tf.Tensor as tf.Tensor3D,
  addPositions: (x, pos) => tf.add(x, tf.slice(pos, [0, 0], [x.shape[1], pos.shape[1]])),
  layerNorm(x, g, b, eps) {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
  },
  linear(x, w, b) {
    const [B, T, Kd] = x.shape;
    return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, Kd]), w), b), [B, T, w.shape[1]]);
  },
  gelu(x) {
    const u = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_A)), GELU_C);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(u), 1));
  },
  attention(qkv, nHead) {
    const [B, T, C3] = qkv.shape;
    const [q, k, v] = splitHeads(qkv, nHead);
    const hd = C3 / 3 / nHead;
    const att = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), causalMask(T));
    return mergeHeads(tf.matMul(tf.softmax(att), v), B);
  },
  head(x, wte) {
    const [B, T, C] = x.shape;
    return tf.reshape(tf.matMul(tf.reshape(x, [B * T, C]), wte, false, true), [B, T, wte.shape[0]]);
  },
  crossEntropy(logits, targets, mask) {
    const V = logits.shape[2];
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(targets, V)), -1);
    const m = tf.cast(mask, "float32");
    return tf.div(tf.neg(tf.sum(tf.mul(picked, m))), tf.maximum(tf.sum(m), 1));
  },
};

// ---------------------------------------------------------------------------------------------
// Fast: our kernels, our gradients.

function run<T extends tf.Tensor | tf.Tensor[]>(
  name: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap = {},
): T {
  return tf.engine().runKernel<T>(name, inputs, attrs);
}

/** `tf.customGrad` with typed inputs: `f(inputs, save)` returns the value and its gradient function. */
function custom<T extends tf.Tensor>(
  f: (
    inputs: tf.Tensor[],
    save: tf.GradSaveFunc,
  ) => { value: T; gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] },
): (...inputs: tf.Tensor[]) => T {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as tf.Tensor[], save);
  });
  return (...inputs) => g(...inputs) as T;
}

let paramGrads = true;

/**
 * Runs `f` (a forward pass) so that the fused ops' backward skips gradients of model parameters,
 * returning zeros for them: for training only inputs (a soft prompt) of a frozen model, where the
 * weight gradients would be thrown away. The naive ops ignore this.
 */
export function withoutParamGrads<T>(f: () => T): T {
  const prev = paramGrads;
  paramGrads = false;
  try {
    return f();
  } finally {
    paramGrads = prev;
  }
}

/** y = x·w (+ b) as one XNNPACK call (bias fused); backward in one SandeLinearGrad kernel. */
function linear2d(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  const f = custom<tf.Tensor2D>(([x, w, b], save) => {
    save([x, w]);
    const weights = paramGrads;
    return {
      value: (b ? tf.fused.matMul({ a: x, b: w, bias: b }) : tf.matMul(x, w)) as tf.Tensor2D,
      gradFunc: (dy, [x, w]) => {
        const grads = run<tf.Tensor[]>(K.linearGrad, { dy, x, w }, { bias: b !== undefined, weights });
        if (weights) return grads;
        return b ? [grads[0], tf.zerosLike(w), tf.zerosLike(b)] : [grads[0], tf.zerosLike(w)];
      },
    };
  });
  return b ? f(x, w, b) : f(x, w);
}

/** Our kernels with hand-written gradients (needs `registerKernels`, wasm or cpu backend). */
export const fastOps: GPTOps = {
  embed(table, ids) {
    const [B, T] = ids.shape;
    const [V, C] = table.shape;
    return custom<tf.Tensor3D>(([table], save) => {
      const flat = tf.reshape(ids, [B * T]);
      save([flat]);
      const weights = paramGrads;
      return {
        value: tf.reshape(tf.gather(table, flat), [B, T, C]),
        // The gradient is a scatter-add of rows: one pass in a kernel.
        gradFunc: (dy, [flat]) =>
          weights
            ? run<tf.Tensor>(K.segmentSum, { x: tf.reshape(dy, [B * T, C]), segmentIds: flat }, { numSegments: V })
            : tf.zeros([V, C]),
      };
    })(table);
  },
  addPositions(x, pos) {
    const [B, T, C] = x.shape;
    const P = pos.shape[0];
    return custom<tf.Tensor3D>(([x, pos]) => ({
      value: tf.add(x, tf.slice(pos, [0, 0], [T, C])),
      gradFunc: (dy) => {
        // Σ over the batch in one pass (tfjs's axis-0 sum is a transpose plus a reduce on wasm).
        const dpos = tf.reshape(run<tf.Tensor>(K.colSum, { x: tf.reshape(dy, [B, T * C]) }), [T, C]);
        return [
          dy,
          T === P
            ? dpos
            : tf.pad(dpos, [
                [0, P - T],
                [0, 0],
              ]),
        ];
      },
    }))(x, pos);
  },
  layerNorm(x, g, b, eps) {
    return custom<tf.Tensor3D>(([x, g, b], save) => {
      const [y, mean, rstd] = run<tf.Tensor[]>(K.layerNorm, { x, g, b }, { eps });
      save([x, g, mean, rstd]);
      return {
        value: y as tf.Tensor3D,
        gradFunc: (dy, [x, g, mean, rstd]) => run<tf.Tensor[]>(K.layerNormGrad, { dy, x, g, mean, rstd }),
      };
    })(x, g, b);
  },
  linear(x, w, b) {
    const [B, T, Kd] = x.shape;
    return tf.reshape(linear2d(tf.reshape(x, [B * T, Kd]), w, b), [B, T, w.shape[1]]);
  },
  gelu(x) {
    // gelu_new(x) = x·σ(2u), since ½(1 + tanh u) = σ(2u): sigmoid is a vectorised XNNPACK kernel on
    // wasm, tanh a scalar loop ~15× slower.
    return custom<tf.Tensor3D>(([x], save) => {
      const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), 2 * GELU_C * GELU_A), 2 * GELU_C)));
      save([x, s]);
      return {
        value: tf.mul(x, s),
        gradFunc: (dy, [x, s]) => {
          // d/dx x·σ(2u) = s + x·s·(1−s)·2u',  2u' = 2c·(1 + 3a·x²)
          const du2 = tf.add(tf.mul(tf.square(x), 6 * GELU_C * GELU_A), 2 * GELU_C);
          return tf.mul(dy, tf.add(s, tf.mul(tf.mul(x, tf.mul(s, tf.sub(1, s))), du2)));
        },
      };
    })(x);
  },
  attention(qkv, nHead) {
    // One kernel each way; heads are sliced out of qkv inside it (see kernels.ts).
    return custom<tf.Tensor3D>(([qkv], save) => {
      const [y, p] = run<tf.Tensor[]>(K.attention, { qkv }, { nHead });
      save([qkv, p]);
      return {
        value: y as tf.Tensor3D,
        gradFunc: (dy, [qkv, p]) => run<tf.Tensor>(K.attentionGrad, { dy, qkv, p }, { nHead }),
      };
    })(qkv);
  },
  head(x, wte) {
    const [B, T, C] = x.shape;
    // wteᵀ is a small [C,V] copy made each call (its gradient flows back through the transpose), so
    // the big product stays a plain gemm and the weights stay tied.
    return tf.reshape(linear2d(tf.reshape(x, [B * T, C]), tf.transpose(wte), null), [B, T, wte.shape[0]]);
  },
  crossEntropy(logits, targets, mask) {
    return custom<tf.Scalar>(([logits], save) => {
      const m = mask.dtype === "float32" ? mask : tf.cast(mask, "float32");
      const t = targets.dtype === "int32" ? targets : tf.cast(targets, "int32");
      const [loss, probs] = run<tf.Tensor[]>(K.xent, { logits, targets: t, mask: m });
      save([probs, t, m]);
      return {
        value: loss as tf.Scalar,
        gradFunc: (dy, [probs, targets, mask]) => run<tf.Tensor>(K.xentGrad, { probs, targets, mask, dloss: dy }),
      };
    })(logits);
  },
};

/** Ops for the active backend: fast where our kernels run (wasm, cpu) unless `naive`. */
export function opsFor(naive: boolean): GPTOps {
  registerKernels(); // also gives wasm the UnsortedSegmentSum that naive autodiff of gather needs
  return naive || !kernelsAvailable() ? naiveOps : fastOps;
}
