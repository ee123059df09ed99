/**
 * Hand-written kernels for training GPT-2 on the wasm backend (and the same code on cpu, so tests can check it).
 *
 * Why these exist (measured on the wasm backend, tfjs 4.22, demo shapes):
 * - tfjs-wasm sends every matMul with transposeA/transposeB, and every *batched* matMul, to a scalar
 *   triple loop (~2 GFLOP/s); only plain 2-D `a·b` reaches XNNPACK (~25-30 GFLOP/s). Backprop through
 *   x·W needs xᵀ·dy and dy·Wᵀ, and attention is batched over B·heads, so autodiff ran ~10× below peak.
 *   `gemm` here drives the wasm module's own BatchMatMul entry point on sub-ranges of the heap (one
 *   2-D XNNPACK call per batch slice), and transposes go through a blocked JS copy first.
 * - `UnsortedSegmentSum` (gather's gradient) has no wasm kernel at all; we register one.
 * - LayerNorm and cross-entropy fuse a dozen tfjs ops each (and their autodiff) into one JS pass.
 *
 * Kernels are registered under their own names and called only from `tf.customGrad` bodies in
 * `ops.ts`, so tfjs never needs gradients for them.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { DataType, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";

/** Kernel names (they show up under these names in `tf.profile`). */
export const K = {
  layerNorm: "SandeLayerNorm",
  layerNormGrad: "SandeLayerNormGrad",
  linearGrad: "SandeLinearGrad",
  xent: "SandeSoftmaxXent",
  xentGrad: "SandeSoftmaxXentGrad",
  colSum: "SandeColSum",
  attention: "SandeAttention",
  attentionGrad: "SandeAttentionGrad",
  segmentSum: "UnsortedSegmentSum",
  identity: "Identity",
} as const;

// ---------------------------------------------------------------------------------------------
// The minimal slices of backend internals we touch.

/** The Emscripten module inside tfjs-backend-wasm (only what we use). */
interface WasmModule {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: null, args: string[]): (...args: (number | boolean | Uint8Array)[]) => void;
  tfjs: { registerTensor(id: number, size: number, ptr: number): void; disposeData(id: number): void };
}

/** tfjs-backend-wasm's BackendWasm (only what we use). */
interface WasmBackend {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
}

/** tfjs-backend-cpu's MathBackendCPU (only what we use). */
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array | Int32Array): TensorInfo;
}

// ---------------------------------------------------------------------------------------------
// Memory access, the same for both backends.

/** A float32 buffer a kernel reads or writes. On wasm it lives in the heap, whose ArrayBuffer is
 * replaced when the heap grows (any malloc, including inside XNNPACK), so take `view()` again after
 * every `gemm` or allocation rather than holding on to one. */
interface Buf {
  view(): Float32Array;
  /** Byte offset in the wasm heap; -1 on other backends. */
  readonly ptr: number;
}

/** What a kernel body needs from its backend. */
interface Io {
  f32(t: TensorInfo): Buf;
  /** int32 input, copied out (small: token ids). */
  i32(t: TensorInfo): Int32Array;
  out(shape: number[]): { info: TensorInfo; buf: Buf };
  /** Reusable scratch `slot`, at least `n` floats; contents undefined. */
  scratch(slot: number, n: number): Buf;
  /** c[cOff..] = a[aOff..]·b[bOff..] for row-major [M,K]·[K,N] (offsets in floats). */
  gemm(a: Buf, aOff: number, b: Buf, bOff: number, c: Buf, cOff: number, M: number, K: number, N: number): void;
  /** Row softmax of x[xOff..] [rows,cols] into out[oOff..]. Entries ≤ -1e30 come out exactly 0. */
  softmax(x: Buf, xOff: number, out: Buf, oOff: number, rows: number, cols: number): void;
}

function heapBuf(mod: WasmModule, ptr: number, len: number): Buf {
  let cached = new Float32Array(mod.HEAPF32.buffer, ptr, len);
  return {
    ptr,
    view() {
      if (cached.buffer !== mod.HEAPF32.buffer) cached = new Float32Array(mod.HEAPF32.buffer, ptr, len);
      return cached;
    },
  };
}

function arrayBuf(a: Float32Array): Buf {
  return { ptr: -1, view: () => a };
}

const wasmScratch = new WeakMap<WasmModule, { ptr: number; n: number }[]>();
type CFunc = (...args: (number | boolean | Uint8Array)[]) => void;
let wasmBmm: CFunc | null = null;
let wasmSoftmax: CFunc | null = null;
let wasmBmmModule: WasmModule | null = null;

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function wasmIo(be: WasmBackend): Io {
  const mod = be.wasm;
  if (wasmBmmModule !== mod) {
    // The same C entry point tfjs's own BatchMatMul kernel calls; with batch 1 and no transposes it
    // runs XNNPACK's fully-connected operator.
    wasmBmm = mod.cwrap("BatchMatMul", null, [
      "number",
      "array",
      "number",
      "number",
      "array",
      "number",
      "number",
      "number",
      "number",
    ]);
    // XNNPACK's vectorised softmax (its operator is cached per row length): ~10× JS Math.exp.
    wasmSoftmax = mod.cwrap("Softmax", null, ["number", "number", "number", "number"]);
    wasmBmmModule = mod;
  }
  const offset = (t: TensorInfo): number => {
    const d = be.dataIdMap.get(t.dataId);
    if (!d) throw new Error("wasm kernel: input tensor has no data on the wasm backend");
    return d.memoryOffset;
  };
  return {
    f32: (t) => heapBuf(mod, offset(t), tf.util.sizeFromShape(t.shape)),
    i32(t) {
      if (t.dtype !== "int32") throw new Error(`wasm kernel: expected an int32 input, got ${t.dtype}`);
      return new Int32Array(mod.HEAPF32.buffer, offset(t), tf.util.sizeFromShape(t.shape)).slice();
    },
    out(shape) {
      const info = be.makeOutput(shape, "float32");
      return { info, buf: heapBuf(mod, offset(info), tf.util.sizeFromShape(shape)) };
    },
    scratch(slot, n) {
      let slots = wasmScratch.get(mod);
      if (!slots) wasmScratch.set(mod, (slots = []));
      let s = slots[slot];
      if (!s || s.n < n) {
        if (s) mod._free(s.ptr);
        const cap = Math.max(n, 1024);
        s = slots[slot] = { ptr: mod._malloc(cap * 4), n: cap };
      }
      return heapBuf(mod, s.ptr, n);
    },
    gemm(a, aOff, b, bOff, c, cOff, M, Kd, N) {
      // Register heap sub-ranges as throw-away tensor ids. XNNPACK caches its packed-weight operator
      // by b's id; disposing the id drops that cache entry, so a reused buffer is never stale.
      const ia = be.dataIdNextNumber++,
        ib = be.dataIdNextNumber++,
        ic = be.dataIdNextNumber++;
      mod.tfjs.registerTensor(ia, M * Kd, a.ptr + aOff * 4);
      mod.tfjs.registerTensor(ib, Kd * N, b.ptr + bOff * 4);
      mod.tfjs.registerTensor(ic, M * N, c.ptr + cOff * 4);
      wasmBmm!(ia, shapeBytes([1, M, Kd]), 3, ib, shapeBytes([1, Kd, N]), 3, false, false, ic);
      mod.tfjs.disposeData(ia);
      mod.tfjs.disposeData(ib);
      mod.tfjs.disposeData(ic);
    },
    softmax(x, xOff, out, oOff, rows, cols) {
      const ix = be.dataIdNextNumber++,
        io = be.dataIdNextNumber++;
      mod.tfjs.registerTensor(ix, rows * cols, x.ptr + xOff * 4);
      mod.tfjs.registerTensor(io, rows * cols, out.ptr + oOff * 4);
      wasmSoftmax!(ix, io, cols, rows);
      mod.tfjs.disposeData(ix);
      mod.tfjs.disposeData(io);
    },
  };
}

function cpuIo(be: CpuBackend): Io {
  const values = (t: TensorInfo): unknown => {
    const d = be.data.get(t.dataId);
    if (!d || d.values == null) throw new Error("cpu kernel: input tensor has no values");
    return d.values;
  };
  const scratch: Float32Array[] = [];
  return {
    f32(t) {
      const v = values(t);
      if (!(v instanceof Float32Array)) throw new Error(`cpu kernel: expected float32 input, got ${t.dtype}`);
      return arrayBuf(v);
    },
    i32(t) {
      const v = values(t);
      return v instanceof Int32Array ? v.slice() : Int32Array.from(v as ArrayLike<number>);
    },
    out(shape) {
      const a = new Float32Array(tf.util.sizeFromShape(shape));
      return { info: be.makeTensorInfo(shape, "float32", a), buf: arrayBuf(a) };
    },
    scratch(slot, n) {
      if (!scratch[slot] || scratch[slot].length < n) scratch[slot] = new Float32Array(n);
      return arrayBuf(scratch[slot]);
    },
    gemm(a, aOff, b, bOff, c, cOff, M, Kd, N) {
      const A = a.view(),
        B = b.view(),
        C = c.view();
      for (let i = 0; i < M; i++) {
        const ci = cOff + i * N;
        C.fill(0, ci, ci + N);
        for (let k = 0; k < Kd; k++) {
          const aik = A[aOff + i * Kd + k],
            bk = bOff + k * N;
          if (aik !== 0) for (let j = 0; j < N; j++) C[ci + j] += aik * B[bk + j];
        }
      }
    },
    softmax(x, xOff, out, oOff, rows, cols) {
      const X = x.view(),
        O = out.view();
      for (let r = 0; r < rows; r++) {
        const xo = xOff + r * cols,
          oo = oOff + r * cols;
        let mx = -Infinity;
        for (let j = 0; j < cols; j++) if (X[xo + j] > mx) mx = X[xo + j];
        let sum = 0;
        for (let j = 0; j < cols; j++) sum += O[oo + j] = X[xo + j] <= MASKED ? 0 : Math.exp(X[xo + j] - mx);
        for (let j = 0; j < cols; j++) O[oo + j] /= sum;
      }
    },
  };
}

/** Score written into masked attention entries; the softmax maps it to exactly 0. */
const MASKED = -1e30;

// ---------------------------------------------------------------------------------------------
// Helpers on plain arrays.

/**
 * dst[dOff + j*R + i] = src[sOff + i*C + j]: [R,C] → [C,R]. Walks columns so writes are contiguous;
 * the strided reads of one column stay in cache for the next ones (R lines). When `sums` is given,
 * also sums[j] = Σ_i src[i,j] (a bias gradient for free). ~2.5 ns/element in V8, ~3× tfjs-wasm's Transpose.
 */
function transpose(
  src: Float32Array,
  sOff: number,
  R: number,
  C: number,
  dst: Float32Array,
  dOff: number,
  sums?: Float32Array,
): void {
  for (let j = 0; j < C; j++) {
    const d = dOff + j * R;
    let s = 0;
    for (let i = 0, si = sOff + j; i < R; i++, si += C) {
      const v = src[si];
      dst[d + i] = v;
      s += v;
    }
    if (sums) sums[j] = s;
  }
}

/** out[j] = Σ_i x[i*N + j]. */
function colSum(x: Float32Array, R: number, N: number, out: Float32Array): void {
  out.fill(0, 0, N);
  for (let i = 0; i < R; i++) {
    const o = i * N;
    for (let j = 0; j < N; j++) out[j] += x[o + j];
  }
}

function last(shape: number[]): number {
  return shape[shape.length - 1];
}

// ---------------------------------------------------------------------------------------------
// Kernel bodies.

type Body = (io: Io, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo | TensorInfo[];

/** y = (x-mean)·rstd·g + b over the last axis; also returns mean and rstd [rows] for the backward. */
const layerNorm: Body = (io, { x, g, b }, attrs) => {
  const C = last(x.shape),
    R = tf.util.sizeFromShape(x.shape) / C;
  const eps = attrs.eps as number;
  const y = io.out(x.shape),
    mean = io.out([R]),
    rstd = io.out([R]);
  const X = io.f32(x).view(),
    G = io.f32(g).view(),
    Bv = io.f32(b).view();
  const Y = y.buf.view(),
    Mv = mean.buf.view(),
    Sv = rstd.buf.view();
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let s = 0;
    for (let j = 0; j < C; j++) s += X[o + j];
    const m = s / C;
    let v = 0;
    for (let j = 0; j < C; j++) {
      const d = X[o + j] - m;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let j = 0; j < C; j++) Y[o + j] = (X[o + j] - m) * rs * G[j] + Bv[j];
    Mv[r] = m;
    Sv[r] = rs;
  }
  return [y.info, mean.info, rstd.info];
};

/** LayerNorm backward: dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)) with dŷ = dy·g; dg = Σ dy·x̂; db = Σ dy. */
const layerNormGrad: Body = (io, { dy, x, g, mean, rstd }) => {
  const C = last(x.shape),
    R = tf.util.sizeFromShape(x.shape) / C;
  const dx = io.out(x.shape),
    dg = io.out([C]),
    db = io.out([C]);
  const DY = io.f32(dy).view(),
    X = io.f32(x).view(),
    G = io.f32(g).view(),
    Mv = io.f32(mean).view(),
    Sv = io.f32(rstd).view();
  const DX = dx.buf.view(),
    DG = dg.buf.view(),
    DB = db.buf.view();
  DG.fill(0);
  DB.fill(0);
  for (let r = 0; r < R; r++) {
    const o = r * C,
      m = Mv[r],
      rs = Sv[r];
    let a = 0,
      bsum = 0;
    for (let j = 0; j < C; j++) {
      const xh = (X[o + j] - m) * rs,
        d = DY[o + j],
        dh = d * G[j];
      DG[j] += d * xh;
      DB[j] += d;
      a += dh;
      bsum += dh * xh;
    }
    a /= C;
    bsum /= C;
    for (let j = 0; j < C; j++) {
      const xh = (X[o + j] - m) * rs;
      DX[o + j] = rs * (DY[o + j] * G[j] - a - xh * bsum);
    }
  }
  return [dx.info, dg.info, db.info];
};

/**
 * Backward of y = x·w (+ b) for x [R,K], w [K,N], dy [R,N]: dx = dy·wᵀ, dw = xᵀ·dy, db = Σ_rows dy.
 *
 * Every product is a plain gemm. XNNPACK repacks its right operand on every call, and that repack
 * (a strided gather) costs more per element than our JS transpose, so the right operand of the dw
 * product is whichever of x and dy is smaller, and the larger one is transposed in JS:
 * - N ≥ K: dwᵀ = dyᵀ·x, with db summed while transposing dy, then dwᵀ (small) transposed back;
 * - N < K: dw = xᵀ·dy, with a row of ones appended to xᵀ so that the gemm's last row is db.
 * With attr `weights: false` only dx is computed (a frozen model: half the work).
 */
const linearGrad: Body = (io, { dy, x, w }, attrs) => {
  const [Kd, N] = w.shape,
    R = tf.util.sizeFromShape(x.shape) / Kd;
  const dx = io.out([R, Kd]);
  const weights = attrs.weights !== false; // false: only dx (parameters frozen)
  const dw = weights ? io.out([Kd, N]) : null;
  const db = weights && attrs.bias ? io.out([N]) : null;
  const DYb = io.f32(dy),
    Xb = io.f32(x),
    Wb = io.f32(w);
  const wT = io.scratch(0, N * Kd);
  transpose(Wb.view(), 0, Kd, N, wT.view(), 0);
  io.gemm(DYb, 0, wT, 0, dx.buf, 0, R, N, Kd);
  if (!dw) return [dx.info];
  if (N >= Kd) {
    const dyT = io.scratch(1, N * R),
      dwT = io.scratch(2, N * Kd);
    transpose(DYb.view(), 0, R, N, dyT.view(), 0, db?.buf.view());
    io.gemm(dyT, 0, Xb, 0, dwT, 0, N, R, Kd);
    transpose(dwT.view(), 0, N, Kd, dw.buf.view(), 0);
  } else {
    const rows = db ? Kd + 1 : Kd;
    const xT = io.scratch(1, rows * R),
      acc = io.scratch(2, rows * N);
    transpose(Xb.view(), 0, R, Kd, xT.view(), 0);
    if (db) xT.view().fill(1, Kd * R, rows * R);
    io.gemm(xT, 0, DYb, 0, acc, 0, rows, R, N);
    const A = acc.view();
    dw.buf.view().set(A.subarray(0, Kd * N));
    if (db) db.buf.view().set(A.subarray(Kd * N, rows * N));
  }
  return db ? [dx.info, dw.info, db.info] : [dx.info, dw.info];
};

/**
 * Masked mean softmax cross-entropy: loss = Σ_r mask_r·(logsumexp(logits_r) − logits_r[t_r]) / max(1, Σ mask).
 * Also returns the softmax probabilities, which is all the backward needs.
 */
const xent: Body = (io, { logits, targets, mask }) => {
  const V = last(logits.shape),
    R = tf.util.sizeFromShape(logits.shape) / V;
  const T = io.i32(targets);
  const loss = io.out([]),
    probs = io.out(logits.shape);
  const Lb = io.f32(logits);
  io.softmax(Lb, 0, probs.buf, 0, R, V);
  const L = Lb.view(),
    Mk = io.f32(mask).view(),
    P = probs.buf.view();
  let total = 0,
    count = 0;
  for (let r = 0; r < R; r++) {
    const m = Mk[r];
    if (m === 0) continue;
    const t = T[r],
      o = r * V;
    if (!(t >= 0 && t < V)) throw new Error(`${K.xent}: target ${t} out of range [0, ${V})`);
    const pt = P[o + t];
    // −log p_t; recomputed from the logits when p_t is too small for float32 to carry it
    total += m * (pt > 1e-30 ? -Math.log(pt) : logSumExp(L, o, V) - L[o + t]);
    count += m;
  }
  loss.buf.view()[0] = total / Math.max(1, count);
  return [loss.info, probs.info];
};

function logSumExp(x: Float32Array, off: number, n: number): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) if (x[off + j] > mx) mx = x[off + j];
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[off + j] - mx);
  return mx + Math.log(s);
}

/** dlogits = (probs − onehot(targets))·mask·dloss / max(1, Σ mask). */
const xentGrad: Body = (io, { probs, targets, mask, dloss }) => {
  const V = last(probs.shape),
    R = tf.util.sizeFromShape(probs.shape) / V;
  const T = io.i32(targets);
  const out = io.out(probs.shape);
  const P = io.f32(probs).view(),
    Mk = io.f32(mask).view(),
    D = out.buf.view();
  let count = 0;
  for (let r = 0; r < R; r++) count += Mk[r];
  const scale = io.f32(dloss).view()[0] / Math.max(1, count);
  for (let r = 0; r < R; r++) {
    const o = r * V,
      w = Mk[r] * scale;
    if (w === 0) {
      D.fill(0, o, o + V);
      continue;
    }
    for (let j = 0; j < V; j++) D[o + j] = P[o + j] * w;
    D[o + T[r]] -= w;
  }
  return out.info;
};

/** Σ over the first axis of a [R, N] tensor → [N]. */
const colSumBody: Body = (io, { x }) => {
  const N = last(x.shape),
    R = tf.util.sizeFromShape(x.shape) / N;
  const out = io.out([N]);
  colSum(io.f32(x).view(), R, N, out.buf.view());
  return out.info;
};

/** tfjs's UnsortedSegmentSum (gather's gradient), missing from tfjs-backend-wasm: out[s] = Σ_{i: ids[i]=s} x[i]. */
const segmentSum: Body = (io, { x, segmentIds }, attrs) => {
  const S = attrs.numSegments as number;
  const ids = io.i32(segmentIds);
  const inner = tf.util.sizeFromShape(x.shape) / ids.length;
  const out = io.out([S, ...x.shape.slice(1)]);
  const X = io.f32(x).view(),
    O = out.buf.view();
  O.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= S) continue; // TF semantics: out-of-range ids are dropped
    const xo = i * inner,
      oo = s * inner;
    for (let j = 0; j < inner; j++) O[oo + j] += X[xo + j];
  }
  return out.info;
};

// Causal attention, one (batch, head) slice at a time: heads are gathered straight out of the fused
// qkv rows into small contiguous scratch tiles (no tfjs transposes, which are N-D scalar loops on
// wasm), the two products per slice are XNNPACK gemms, and the masked softmax only touches j ≤ i.
// Products are arranged so that only [T,hd] tiles are ever transposed, never [T,T] ones.

/** Copies head `h`'s [T,hd] block at column `col` of rows [b·T, (b+1)·T) of a [.., W] matrix, times `scale`; `transposed` → [hd,T]. */
function gatherHead(
  src: Float32Array,
  W: number,
  b: number,
  T: number,
  col: number,
  hd: number,
  dst: Float32Array,
  transposed: boolean,
  scale = 1,
): void {
  for (let t = 0; t < T; t++) {
    const so = (b * T + t) * W + col;
    if (transposed) for (let d = 0; d < hd; d++) dst[d * T + t] = src[so + d] * scale;
    else for (let d = 0; d < hd; d++) dst[t * hd + d] = src[so + d] * scale;
  }
}

/** Inverse of gatherHead: writes a [T,hd] (or [hd,T] when `transposed`) tile into the block. */
function scatterHead(
  src: Float32Array,
  transposed: boolean,
  dst: Float32Array,
  W: number,
  b: number,
  T: number,
  col: number,
  hd: number,
): void {
  for (let t = 0; t < T; t++) {
    const dO = (b * T + t) * W + col;
    if (transposed) for (let d = 0; d < hd; d++) dst[dO + d] = src[d * T + t];
    else for (let d = 0; d < hd; d++) dst[dO + d] = src[t * hd + d];
  }
}

/** y[b,t,h·hd:(h+1)·hd] = softmax(mask(q·kᵀ/√hd))·v per (b,h); also returns the probabilities p [B·nh,T,T]. */
const attention: Body = (io, { qkv }, attrs) => {
  const [B, T, C3] = qkv.shape;
  const nh = attrs.nHead as number,
    C = C3 / 3,
    hd = C / nh,
    scale = 1 / Math.sqrt(hd);
  const y = io.out([B, T, C]),
    p = io.out([B * nh, T, T]);
  const X = io.f32(qkv);
  const q = io.scratch(3, T * hd),
    kT = io.scratch(4, hd * T),
    v = io.scratch(5, T * hd),
    o = io.scratch(6, T * hd);
  const sc = io.scratch(7, T * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const pOff = (b * nh + h) * T * T;
      const x = X.view();
      gatherHead(x, C3, b, T, h * hd, hd, q.view(), false, scale); // 1/√hd folded into q
      gatherHead(x, C3, b, T, C + h * hd, hd, kT.view(), true);
      gatherHead(x, C3, b, T, 2 * C + h * hd, hd, v.view(), false);
      io.gemm(q, 0, kT, 0, sc, 0, T, hd, T); // scores [T,T]
      const S = sc.view();
      for (let i = 0; i < T - 1; i++) S.fill(MASKED, i * T + i + 1, (i + 1) * T); // causal
      io.softmax(sc, 0, p.buf, pOff, T, T);
      io.gemm(p.buf, pOff, v, 0, o, 0, T, T, hd);
      scatterHead(o.view(), false, y.buf.view(), C, b, T, h * hd, hd);
    }
  }
  return [y.info, p.info];
};

/**
 * Backward of `attention`: dp = dy·vᵀ, ds = p⊙(dp − Σ_j dp⊙p)/√hd, dv = pᵀ·dy, dq = ds·k, dk = dsᵀ·q
 * → dqkv [B,T,3C]. The [T,T] operands pᵀ and dsᵀ are transposed in JS (written while ds is computed)
 * so the right operand XNNPACK repacks is always a small [T,hd] or [hd,T] tile.
 */
const attentionGrad: Body = (io, { dy, qkv, p }, attrs) => {
  const [B, T, C3] = qkv.shape;
  const nh = attrs.nHead as number,
    C = C3 / 3,
    hd = C / nh,
    scale = 1 / Math.sqrt(hd);
  const dqkv = io.out([B, T, C3]);
  const X = io.f32(qkv),
    DY = io.f32(dy),
    Pb = io.f32(p);
  const dO = io.scratch(3, T * hd),
    tile = io.scratch(4, T * hd),
    r = io.scratch(5, T * hd);
  const ds = io.scratch(6, T * T),
    sq = io.scratch(7, T * T); // ds, and pᵀ then dsᵀ
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const pOff = (b * nh + h) * T * T;
      gatherHead(DY.view(), C, b, T, h * hd, hd, dO.view(), false);
      // dv = pᵀ·dy
      transpose(Pb.view(), pOff, T, T, sq.view(), 0);
      io.gemm(sq, 0, dO, 0, r, 0, T, T, hd);
      scatterHead(r.view(), false, dqkv.buf.view(), C3, b, T, 2 * C + h * hd, hd);
      // dp = dy·vᵀ, then ds in place, and dsᵀ alongside
      gatherHead(X.view(), C3, b, T, 2 * C + h * hd, hd, tile.view(), true);
      io.gemm(dO, 0, tile, 0, ds, 0, T, hd, T);
      const D = ds.view(),
        P = Pb.view(),
        DT = sq.view();
      DT.fill(0);
      for (let i = 0; i < T; i++) {
        const ro = i * T,
          po = pOff + i * T;
        let dot = 0;
        for (let j = 0; j <= i; j++) dot += D[ro + j] * P[po + j];
        for (let j = 0; j <= i; j++) {
          const v = P[po + j] * (D[ro + j] - dot) * scale;
          D[ro + j] = v;
          DT[j * T + i] = v;
        }
        D.fill(0, ro + i + 1, ro + T);
      }
      // dq = ds·k
      gatherHead(X.view(), C3, b, T, C + h * hd, hd, tile.view(), false);
      io.gemm(ds, 0, tile, 0, r, 0, T, T, hd);
      scatterHead(r.view(), false, dqkv.buf.view(), C3, b, T, h * hd, hd);
      // dk = dsᵀ·q
      gatherHead(X.view(), C3, b, T, h * hd, hd, tile.view(), false);
      io.gemm(sq, 0, tile, 0, r, 0, T, T, hd);
      scatterHead(r.view(), false, dqkv.buf.view(), C3, b, T, C + h * hd, hd);
    }
  }
  return dqkv.info;
};

const bodies: Record<string, Body> = {
  [K.attention]: attention,
  [K.attentionGrad]: attentionGrad,
  [K.layerNorm]: layerNorm,
  [K.layerNormGrad]: layerNormGrad,
  [K.linearGrad]: linearGrad,
  [K.xent]: xent,
  [K.xentGrad]: xentGrad,
  [K.colSum]: colSumBody,
};

const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as TensorInfo;
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Backends our kernels are registered for. */
export const KERNEL_BACKENDS = ["wasm", "cpu"] as const;

/**
 * Registers the Sande kernels for wasm and cpu (idempotent), plus UnsortedSegmentSum for wasm, where
 * tfjs lacks it (without it even plain autodiff through `tf.gather` fails on wasm).
 */
export function registerKernels(): void {
  const wasmIdentity = tf.getKernel(K.identity, "wasm");
  if (wasmIdentity && wasmIdentity.kernelFunc !== sharedIdentity) {
    // tfjs-wasm's Identity (behind tf.clone, hence every tensor a tf.customGrad saves) copies the
    // whole buffer. Tensors are immutable, so share it and count a reference, as tfjs-cpu does.
    tf.unregisterKernel(K.identity, "wasm");
    tf.registerKernel({ kernelName: K.identity, backendName: "wasm", kernelFunc: sharedIdentity });
  }
  for (const backendName of KERNEL_BACKENDS) {
    const io = (backend: {}): Io =>
      backendName === "wasm" ? wasmIo(backend as WasmBackend) : cpuIo(backend as CpuBackend);
    const all: [string, Body][] = Object.entries(bodies);
    if (backendName === "wasm") all.push([K.segmentSum, segmentSum]);
    for (const [kernelName, body] of all) {
      if (tf.getKernel(kernelName, backendName)) continue;
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) =>
          body(io(backend), inputs as Record<string, TensorInfo>, attrs ?? {}),
      });
    }
  }
}

/** True when the active backend runs the Sande kernels (wasm: only if its internals are the ones we drive). */
export function kernelsAvailable(): boolean {
  const name = tf.getBackend();
  if (name === "cpu") return true;
  if (name !== "wasm") return false;
  if (wasmChecked === undefined) {
    wasmChecked = hasWasmInternals(tf.backend());
    if (!wasmChecked)
      console.warn(
        "tfjs-backend-wasm internals differ from 4.22 (BatchMatMul/Softmax entry points, tensor registry); using plain tfjs ops",
      );
  }
  return wasmChecked;
}

let wasmChecked: boolean | undefined;

/** The wasm module entry points and backend fields `wasmIo` relies on (pinned tfjs 4.22.0). */
function hasWasmInternals(backend: unknown): boolean {
  const be = backend as Partial<WasmBackend> & { wasm?: Partial<WasmModule> & Record<string, unknown> };
  const mod = be.wasm;
  return (
    typeof be.dataIdNextNumber === "number" &&
    typeof be.makeOutput === "function" &&
    mod !== undefined &&
    typeof mod.cwrap === "function" &&
    typeof mod._BatchMatMul === "function" &&
    typeof mod._Softmax === "function" &&
    typeof mod.tfjs?.registerTensor === "function" &&
    typeof mod.tfjs?.disposeData === "function"
  );
}
