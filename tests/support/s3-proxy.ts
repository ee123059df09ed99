/**
 * A real HTTP hop in front of a store that drops some response headers, the way some
 * S3-compatible stores and proxies answer (e.g. without an ETag). Requests pass through
 * unchanged, Host header included, so SigV4 signatures still verify at the store.
 */
import { createServer, request, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** A running proxy. */
export interface HeaderStrippingProxy {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (free port) to `target` (http://host:port) that removes `strip` (lowercase) from answers. */
export async function startHeaderStrippingProxy(
  target: string,
  strip: readonly string[],
): Promise<HeaderStrippingProxy> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const headers: IncomingHttpHeaders = { ...answer.headers };
        for (const name of strip) delete headers[name];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (e) => res.destroy(e));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
