/**
 * GPT-2 inference in plain TypeScript (no dependencies): runs in workerd and Node.
 *
 * Matches Hugging Face GPT2LMHeadModel: learned position embeddings, pre-LayerNorm
 * blocks, causal self-attention scaled by 1/sqrt(head_dim), tanh-GELU ("gelu_new"),
 * a final LayerNorm and an LM head tied to the token embedding (logits = x · wteᵀ).
 *
 * Notation (as in nanoGPT / llm.c): T tokens in this call, C = n_embd, NH = n_head,
 * HS = C / NH, V = vocab_size, P = n_positions, L = n_layer.
 *
 * Read top-down: GPTInference (the model) → KVCache (one sequence's state) →
 * the kernels (layerNorm, matmul, attention, gelu) at the bottom.
 */
import { validateConfig, type GPTConfig } from "../model/config.js";
import { checkWeights, type Weights } from "../model/weights.js";

/**
 * A GPT-2 model ready for inference. Build once, then use it for any number of
 * sequences, each with its own {@link KVCache} from {@link GPTInference.createCache}.
 *
 * Not re-entrant across threads (it owns scratch buffers), but calls are
 * synchronous, so any number of interleaved generators on one model is fine.
 */
export class GPTInference {
  /** The model's configuration (a copy; changing it has no effect). */
  readonly config: Readonly<GPTConfig>;
  private readonly wte: Float32Array; // [V, C]: embedding rows, and the tied LM head's [out, in] matrix
  private readonly wpe: Float32Array; // [P, C]
  private readonly layers: LayerWeights[]; // L entries
  private readonly lnfWeight: Float32Array; // [C]
  private readonly lnfBias: Float32Array; // [C]
  private readonly scratch: Scratch;
  private readonly soft: Float32Array; // [k, C]: rows for the ids V … V+k−1 (SANDE's parrot), often empty

  /**
   * Validates config and weights (Hugging Face GPT-2 names and layouts), then rearranges the weights for fast inference.
   * `softTokens` (k·C numbers, row-major) adds k input-only embeddings with the ids V … V+k−1: a
   * soft prompt (SANDE's parrot) that prompts may contain and that the model never emits.
   */
  constructor(config: GPTConfig, weights: Weights, options: { softTokens?: Float32Array } = {}) {
    validateConfig(config);
    checkWeights(config, weights);
    this.config = Object.freeze({ ...config });
    const { n_embd: C, n_layer: L } = config;
    const soft = options.softTokens ?? new Float32Array(0);
    if (soft.length % C !== 0)
      throw new Error(`softTokens: ${soft.length} numbers is not a whole number of ${C}-wide rows`);
    this.soft = soft.slice();
    const get = (name: string): Float32Array => weights.get(name)!.data;
    // Copies, so later changes to the caller's tensors (e.g. training) cannot half-change a serving model.
    this.wte = get("wte.weight").slice();
    this.wpe = get("wpe.weight").slice();
    this.lnfWeight = get("ln_f.weight").slice();
    this.lnfBias = get("ln_f.bias").slice();
    this.layers = [];
    for (let l = 0; l < L; l++) {
      const h = `h.${l}.`;
      // HF Conv1D stores weights as [in, out]; we transpose to [out, in] so that each output
      // is one contiguous dot product with the input row (the matmul kernel relies on this).
      this.layers.push({
        ln1Weight: get(h + "ln_1.weight").slice(),
        ln1Bias: get(h + "ln_1.bias").slice(),
        qkvWeight: transpose(get(h + "attn.c_attn.weight"), C, 3 * C), // [3C, C]
        qkvBias: get(h + "attn.c_attn.bias").slice(), // [3C]
        attnProjWeight: transpose(get(h + "attn.c_proj.weight"), C, C), // [C, C]
        attnProjBias: get(h + "attn.c_proj.bias").slice(), // [C]
        ln2Weight: get(h + "ln_2.weight").slice(),
        ln2Bias: get(h + "ln_2.bias").slice(),
        fcWeight: transpose(get(h + "mlp.c_fc.weight"), C, 4 * C), // [4C, C]
        fcBias: get(h + "mlp.c_fc.bias").slice(), // [4C]
        mlpProjWeight: transpose(get(h + "mlp.c_proj.weight"), 4 * C, C), // [C, 4C]
        mlpProjBias: get(h + "mlp.c_proj.bias").slice(), // [C]
      });
    }
    this.scratch = new Scratch(config);
  }

  /** Ids a prompt may hold: the vocabulary, then the soft tokens. */
  get inputIds(): number {
    return this.config.vocab_size + this.soft.length / this.config.n_embd;
  }

  /** A fresh, empty cache for one sequence (holds keys/values for up to n_positions tokens). */
  createCache(): KVCache {
    return new KVCache(this.config);
  }

  /**
   * Appends `tokens` to the sequence held by `cache` (prefill: any number at once;
   * decode: one) and returns the logits [V] of the last position.
   *
   * The returned array belongs to the cache and is overwritten by its next
   * forward call: copy it (`.slice()`) to keep it. Callers may modify it in place
   * (e.g. mask tokens before sampling).
   */
  forward(tokens: readonly number[], cache: KVCache): Float32Array {
    if (
      cache.nLayer !== this.config.n_layer ||
      cache.nEmbd !== this.config.n_embd ||
      cache.nPositions !== this.config.n_positions
    ) {
      throw new Error("forward: this cache was created by a model with a different config");
    }
    this.checkTokens(tokens, cache.length, "forward");
    const { n_embd: C } = this.config;
    const T = tokens.length;
    const pos0 = cache.length;
    const s = this.scratch;
    s.ensure(T);
    this.embed(tokens, pos0, s.residual);
    for (let l = 0; l < this.layers.length; l++) {
      this.block(l, T, pos0, {
        keys: cache.keys[l],
        values: cache.values[l],
        keyOffset: 0,
        valueOffset: 0,
        stride: C,
        store: true,
      });
    }
    cache.length += T;
    // Only the last position's logits are needed for the next token.
    this.logits(s.residual, (T - 1) * C, cache.logits);
    return cache.logits;
  }

  /**
   * Uncached reference: runs the whole sequence from position 0 in one pass, with
   * attention reading keys/values straight from this pass's q/k/v buffer (no KVCache),
   * and returns the logits [V] of every position. Slower; used to check the cache.
   */
  forwardAll(tokens: readonly number[]): Float32Array[] {
    this.checkTokens(tokens, 0, "forwardAll");
    const { n_embd: C, vocab_size: V } = this.config;
    const T = tokens.length;
    const s = this.scratch;
    s.ensure(T);
    this.embed(tokens, 0, s.residual);
    for (let l = 0; l < this.layers.length; l++) {
      // Keys and values of this pass live in the qkv scratch [T, 3C]: k at column C, v at 2C.
      this.block(l, T, 0, {
        keys: s.qkv,
        values: s.qkv,
        keyOffset: C,
        valueOffset: 2 * C,
        stride: 3 * C,
        store: false,
      });
    }
    const out: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const logits = new Float32Array(V);
      this.logits(s.residual, t * C, logits);
      out.push(logits);
    }
    return out;
  }

  /** residual[t] = wte[token_t] (or soft[token_t − V]) + wpe[pos0 + t]  — [T, C] */
  private embed(tokens: readonly number[], pos0: number, residual: Float32Array): void {
    const { n_embd: C, vocab_size: V } = this.config;
    for (let t = 0; t < tokens.length; t++) {
      const [table, te] = tokens[t] < V ? [this.wte, tokens[t] * C] : [this.soft, (tokens[t] - V) * C];
      const pe = (pos0 + t) * C;
      const o = t * C;
      for (let c = 0; c < C; c++) residual[o + c] = table[te + c] + this.wpe[pe + c];
    }
  }

  /**
   * One transformer block on the T rows of the residual stream, in place:
   *   x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
   */
  private block(l: number, T: number, pos0: number, kv: KeyValueSource): void {
    const { n_embd: C, n_head: NH, layer_norm_epsilon: eps } = this.config;
    const w = this.layers[l];
    const s = this.scratch;
    const HS = C / NH;

    // --- attention ---
    layerNorm(s.normed, s.residual, w.ln1Weight, w.ln1Bias, T, C, eps); // [T, C]
    matmul(s.qkv, s.normed, w.qkvWeight, w.qkvBias, T, C, 3 * C, false); // [T, 3C] = q | k | v
    if (kv.store) {
      // Append this call's keys and values to the cache: rows pos0..pos0+T-1 of [P, C].
      for (let t = 0; t < T; t++) {
        const src = t * 3 * C;
        const dst = (pos0 + t) * C;
        kv.keys.set(s.qkv.subarray(src + C, src + 2 * C), dst);
        kv.values.set(s.qkv.subarray(src + 2 * C, src + 3 * C), dst);
      }
    }
    const scale = 1 / Math.sqrt(HS);
    for (let t = 0; t < T; t++) {
      // Causal: position pos0+t sees positions 0..pos0+t.
      attention(s.attnOut, t * C, s.qkv, t * 3 * C, kv, pos0 + t + 1, NH, HS, scale, s.scores);
    }
    matmul(s.residual, s.attnOut, w.attnProjWeight, w.attnProjBias, T, C, C, true); // x += y·Wo + bo

    // --- MLP ---
    layerNorm(s.normed, s.residual, w.ln2Weight, w.ln2Bias, T, C, eps); // [T, C]
    matmul(s.hidden, s.normed, w.fcWeight, w.fcBias, T, C, 4 * C, false); // [T, 4C]
    geluNew(s.hidden, T * 4 * C);
    matmul(s.residual, s.hidden, w.mlpProjWeight, w.mlpProjBias, T, 4 * C, C, true); // x += h·W2 + b2
  }

  /** logits[V] = ln_f(residual row) · wteᵀ  (tied LM head, no bias) */
  private logits(residual: Float32Array, rowOffset: number, logits: Float32Array): void {
    const { n_embd: C, vocab_size: V, layer_norm_epsilon: eps } = this.config;
    const s = this.scratch;
    layerNorm(s.finalRow, residual.subarray(rowOffset, rowOffset + C), this.lnfWeight, this.lnfBias, 1, C, eps);
    matmul(logits, s.finalRow, this.wte, null, 1, C, V, false);
  }

  private checkTokens(tokens: readonly number[], cached: number, where: string): void {
    const { n_positions: P } = this.config;
    if (tokens.length === 0) throw new Error(`${where}: needs at least one token`);
    if (cached + tokens.length > P) {
      throw new Error(
        `${where}: sequence of ${cached + tokens.length} tokens (${cached} cached + ${tokens.length} new) exceeds the model's context of n_positions=${P}`,
      );
    }
    const ids = this.inputIds;
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= ids)
        throw new Error(`${where}: token ${i} is ${id}, outside the vocabulary [0, ${ids})`);
    }
  }
}

/**
 * One sequence's state: the keys and values of every position seen so far, per
 * layer, and the logits buffer that `forward` returns. Create with
 * {@link GPTInference.createCache}.
 */
export class KVCache {
  /** Tokens held (the next token's position). */
  length = 0;
  /** keys[l]: [P, C], row p = key of position p (head h in columns h·HS..(h+1)·HS). */
  readonly keys: Float32Array[] = [];
  /** values[l]: [P, C], laid out as keys. */
  readonly values: Float32Array[] = [];
  /** Logits [V] of the last position of the latest forward call. */
  readonly logits: Float32Array;
  readonly nLayer: number;
  readonly nEmbd: number;
  readonly nPositions: number;

  constructor(config: Readonly<GPTConfig>) {
    this.nLayer = config.n_layer;
    this.nEmbd = config.n_embd;
    this.nPositions = config.n_positions;
    for (let l = 0; l < config.n_layer; l++) {
      this.keys.push(new Float32Array(config.n_positions * config.n_embd));
      this.values.push(new Float32Array(config.n_positions * config.n_embd));
    }
    this.logits = new Float32Array(config.vocab_size);
  }

  /** Tokens that still fit before the context (n_positions) is full. */
  get remaining(): number {
    return this.nPositions - this.length;
  }

  /** Forgets the sequence so the cache can be reused (stale keys are overwritten before being read). */
  reset(): void {
    this.length = 0;
  }
}

interface LayerWeights {
  ln1Weight: Float32Array; // [C]
  ln1Bias: Float32Array; // [C]
  qkvWeight: Float32Array; // [3C, C]
  qkvBias: Float32Array; // [3C]
  attnProjWeight: Float32Array; // [C, C]
  attnProjBias: Float32Array; // [C]
  ln2Weight: Float32Array; // [C]
  ln2Bias: Float32Array; // [C]
  fcWeight: Float32Array; // [4C, C]
  fcBias: Float32Array; // [4C]
  mlpProjWeight: Float32Array; // [C, 4C]
  mlpProjBias: Float32Array; // [C]
}

/** Where attention reads keys/values: row j of position j at `offset + j·stride`. */
interface KeyValueSource {
  keys: Float32Array;
  values: Float32Array;
  keyOffset: number;
  valueOffset: number;
  stride: number;
  /** Copy this call's k/v into keys/values first (KV cache) rather than read them in place. */
  store: boolean;
}

/** Activation buffers shared by all calls on one model, grown to the largest T seen, so decoding allocates nothing. */
class Scratch {
  residual = new Float32Array(0); // [T, C]
  normed = new Float32Array(0); // [T, C]
  qkv = new Float32Array(0); // [T, 3C]
  attnOut = new Float32Array(0); // [T, C]
  hidden = new Float32Array(0); // [T, 4C]
  readonly scores: Float32Array; // [P] attention weights of one head
  readonly finalRow: Float32Array; // [C]
  private rows = 0;

  constructor(private readonly config: GPTConfig) {
    this.scores = new Float32Array(config.n_positions);
    this.finalRow = new Float32Array(config.n_embd);
  }

  ensure(T: number): void {
    if (T <= this.rows) return;
    const C = this.config.n_embd;
    this.rows = T;
    this.residual = new Float32Array(T * C);
    this.normed = new Float32Array(T * C);
    this.qkv = new Float32Array(T * 3 * C);
    this.attnOut = new Float32Array(T * C);
    this.hidden = new Float32Array(T * 4 * C);
  }
}

// ---------------------------------------------------------------------------
// Kernels. Plain loops over Float32Array; arithmetic happens in float64 (JS numbers)
// and is rounded to float32 when stored, which is at least as accurate as PyTorch's float32.
// ---------------------------------------------------------------------------

/** [rows, cols] → [cols, rows] copy. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** out[t] = (x[t] − mean) / sqrt(var + eps) · weight + bias, per row of [T, C] (biased variance, as torch). */
function layerNorm(
  out: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  T: number,
  C: number,
  eps: number,
): void {
  for (let t = 0; t < T; t++) {
    const o = t * C;
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[o + c];
    mean /= C;
    let variance = 0;
    for (let c = 0; c < C; c++) {
      const d = x[o + c] - mean;
      variance += d * d;
    }
    variance /= C;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < C; c++) out[o + c] = (x[o + c] - mean) * rstd * weight[c] + bias[c];
  }
}

/**
 * out[T, OC] (=|+=) x[T, IC] · Wᵀ + bias, with W stored [OC, IC] (one contiguous row per output).
 *
 * The hot loop of the whole model. Four output rows are computed together so each
 * x[i] load feeds four multiply-adds, and the inner loop is unrolled by two: in V8
 * this runs ~2× faster than one row at a time (measured by bench/infer.ts).
 * Rows of W stay in L1 across the T input rows during prefill.
 */
function matmul(
  out: Float32Array,
  x: Float32Array,
  W: Float32Array,
  bias: Float32Array | null,
  T: number,
  IC: number,
  OC: number,
  accumulate: boolean,
): void {
  const IC2 = IC - (IC & 1); // even part; an odd last column is handled after the loop
  let o = 0;
  for (; o + 4 <= OC; o += 4) {
    const r0 = o * IC;
    const r1 = r0 + IC;
    const r2 = r1 + IC;
    const r3 = r2 + IC;
    const b0 = bias === null ? 0 : bias[o];
    const b1 = bias === null ? 0 : bias[o + 1];
    const b2 = bias === null ? 0 : bias[o + 2];
    const b3 = bias === null ? 0 : bias[o + 3];
    for (let t = 0; t < T; t++) {
      const xr = t * IC;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < IC2; i += 2) {
        const xa = x[xr + i];
        const xb = x[xr + i + 1];
        s0 += xa * W[r0 + i] + xb * W[r0 + i + 1];
        s1 += xa * W[r1 + i] + xb * W[r1 + i + 1];
        s2 += xa * W[r2 + i] + xb * W[r2 + i + 1];
        s3 += xa * W[r3 + i] + xb * W[r3 + i + 1];
      }
      if (IC2 !== IC) {
        const xa = x[xr + IC2];
        s0 += xa * W[r0 + IC2];
        s1 += xa * W[r1 + IC2];
        s2 += xa * W[r2 + IC2];
        s3 += xa * W[r3 + IC2];
      }
      const y = t * OC + o;
      if (accumulate) {
        out[y] += s0 + b0;
        out[y + 1] += s1 + b1;
        out[y + 2] += s2 + b2;
        out[y + 3] += s3 + b3;
      } else {
        out[y] = s0 + b0;
        out[y + 1] = s1 + b1;
        out[y + 2] = s2 + b2;
        out[y + 3] = s3 + b3;
      }
    }
  }
  // Leftover rows when OC is not a multiple of 4 (e.g. V = 261).
  for (; o < OC; o++) {
    const r = o * IC;
    const b = bias === null ? 0 : bias[o];
    for (let t = 0; t < T; t++) {
      const xr = t * IC;
      let s = 0;
      for (let i = 0; i < IC; i++) s += x[xr + i] * W[r + i];
      const y = t * OC + o;
      if (accumulate) out[y] += s + b;
      else out[y] = s + b;
    }
  }
}

/**
 * Causal self-attention for one query row, all heads:
 *   out[h] = softmax(q[h] · K[h]ᵀ · scale) · V[h]   over positions 0..nCtx-1
 * q is read from qkv at qOffset (first C columns); keys/values from `kv`.
 */
function attention(
  out: Float32Array,
  outOffset: number,
  qkv: Float32Array,
  qOffset: number,
  kv: KeyValueSource,
  nCtx: number,
  NH: number,
  HS: number,
  scale: number,
  scores: Float32Array,
): void {
  const { keys, values, stride } = kv;
  for (let h = 0; h < NH; h++) {
    const q = qOffset + h * HS;
    const kHead = kv.keyOffset + h * HS;
    const vHead = kv.valueOffset + h * HS;
    // scores[j] = q · k_j · scale, tracking the max for a stable softmax
    let max = -Infinity;
    for (let j = 0; j < nCtx; j++) {
      const k = kHead + j * stride;
      let s0 = 0;
      let s1 = 0;
      let d = 0;
      for (; d + 2 <= HS; d += 2) {
        s0 += qkv[q + d] * keys[k + d];
        s1 += qkv[q + d + 1] * keys[k + d + 1];
      }
      if (d < HS) s0 += qkv[q + d] * keys[k + d];
      const score = (s0 + s1) * scale;
      scores[j] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    for (let j = 0; j < nCtx; j++) {
      const e = Math.exp(scores[j] - max);
      scores[j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    // out[h] = Σ_j p_j · v_j
    const o = outOffset + h * HS;
    for (let d = 0; d < HS; d++) out[o + d] = 0;
    for (let j = 0; j < nCtx; j++) {
      const p = scores[j] * inv;
      const v = vHead + j * stride;
      for (let d = 0; d < HS; d++) out[o + d] += p * values[v + d];
    }
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** In place, tanh approximation (HF "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function geluNew(x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    x[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
  }
}
