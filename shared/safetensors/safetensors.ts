import type { Tensor } from "../model/weights.js";

/** Raised for any file that is not a complete, consistent safetensors file. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

/** Tensors and string metadata of one safetensors file. */
export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const BYTES_PER: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** Writes tensors (as F32) and metadata into safetensors bytes; the header is padded to 8 bytes. */
export function encodeSafetensors(tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new SafetensorsError(`tensor ${name}: shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    const le = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(le, at);
    at += le.length;
  }
  return out;
}

/**
 * Reads safetensors bytes. Every inconsistency (short file, bad header, unknown
 * dtype, overlapping or out-of-range offsets, trailing bytes) throws a
 * SafetensorsError naming it; nothing is returned partially.
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8)
    throw new SafetensorsError(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES)
    throw new SafetensorsError(
      `header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`,
    );
  if (8 + headerLen > bytes.length)
    throw new SafetensorsError(
      `truncated: header needs ${headerLen} bytes, file has ${bytes.length - 8} after the length`,
    );
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header))
    throw new SafetensorsError("header is not a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const rawMeta = header.__metadata__;
  if (rawMeta !== undefined) {
    if (!rawMeta || typeof rawMeta !== "object" || Array.isArray(rawMeta))
      throw new SafetensorsError("__metadata__ is not an object");
    for (const [k, v] of Object.entries(rawMeta)) {
      if (typeof v !== "string") throw new SafetensorsError(`__metadata__.${k} is not a string`);
      metadata[k] = v;
    }
  }
  const entries: [string, HeaderEntry][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    entries.push([name, checkEntry(name, raw)]);
  }
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let expectedBegin = 0;
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of entries) {
    const [begin, end] = e.data_offsets;
    if (begin !== expectedBegin)
      throw new SafetensorsError(`tensor ${name} starts at byte ${begin}, expected ${expectedBegin} (gap or overlap)`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES_PER[e.dtype])
      throw new SafetensorsError(
        `tensor ${name}: ${end - begin} bytes for shape [${e.shape}] of ${e.dtype}, expected ${count * BYTES_PER[e.dtype]}`,
      );
    if (end > dataLen)
      throw new SafetensorsError(`truncated: tensor ${name} ends at data byte ${end}, file has ${dataLen}`);
    tensors.set(name, { shape: e.shape, data: toFloat32(e.dtype, bytes.subarray(dataStart + begin, dataStart + end)) });
    expectedBegin = end;
  }
  if (expectedBegin !== dataLen)
    throw new SafetensorsError(
      `${dataLen - expectedBegin} trailing bytes after the last tensor (file corrupt or header wrong)`,
    );
  return { tensors, metadata };
}

function checkEntry(name: string, raw: unknown): HeaderEntry {
  if (!raw || typeof raw !== "object") throw new SafetensorsError(`tensor ${name}: header entry is not an object`);
  const e = raw as Partial<HeaderEntry>;
  if (typeof e.dtype !== "string" || !Object.hasOwn(BYTES_PER, e.dtype))
    throw new SafetensorsError(`tensor ${name}: dtype ${JSON.stringify(e.dtype)} is not supported (F32, F16, BF16)`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new SafetensorsError(
      `tensor ${name}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`,
    );
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every((x) => Number.isInteger(x) && x >= 0) || o[1] < o[0])
    throw new SafetensorsError(`tensor ${name}: data_offsets ${JSON.stringify(o)} are invalid`);
  return e as HeaderEntry;
}

function toFloat32(dtype: string, raw: Uint8Array): Float32Array {
  // A copy: aligned, and detached from the file buffer. Uint8Array.prototype.slice, not raw.slice:
  // a Node Buffer's own slice() is a view into the (pooled, unaligned) file buffer.
  const copy = Uint8Array.prototype.slice.call(raw);
  if (dtype === "F32") return new Float32Array(copy.buffer, 0, copy.length / 4);
  const halves = new Uint16Array(copy.buffer, 0, copy.length / 2);
  const out = new Float32Array(halves.length);
  if (dtype === "BF16") {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  } else for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]);
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
