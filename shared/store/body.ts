/**
 * Reading an object's body when its size is known in advance (a model file named by
 * the manifest): the Content-Length is checked before any byte is read, and reading
 * stops as soon as the body runs past the size, so a wrong or hostile object is never
 * buffered whole.
 */
import { StoreError } from "./errors.js";

/**
 * The body of `res`, which must be exactly `size` bytes. Throws StoreError "corrupt"
 * (naming `what`) when the Content-Length disagrees (the body is not read) or when the
 * body turns out shorter or longer (reading stops at the first byte past `size`).
 */
export async function readExactly(res: Response, size: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
  if (!Number.isInteger(size) || size < 0)
    throw new StoreError("corrupt", `${what}: expected size ${size} is not a size`);
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) !== size) {
    await res.body?.cancel();
    throw new StoreError("corrupt", `${what} is ${declared} bytes (Content-Length), manifest says ${size}`);
  }
  const out = new Uint8Array(size);
  let filled = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.byteLength > size) {
        await reader.cancel();
        throw new StoreError("corrupt", `${what} is more than ${size} bytes, manifest says ${size}`);
      }
      out.set(value, filled);
      filled += value.byteLength;
    }
  }
  if (filled !== size) throw new StoreError("corrupt", `${what} is ${filled} bytes, manifest says ${size}`);
  return out;
}
