/** s3rver, the local S3 API: data in a folder that survives restarts, bucket created on start. */
import { mkdirSync } from "node:fs";
import S3rver from "s3rver";

/** A running s3rver. */
export interface LocalStore {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1:`port` (0: any free port) with `bucket`, data under `directory`. s3rver's keys are S3RVER/S3RVER. */
export async function startS3rver(directory: string, bucket: string, port = 0): Promise<LocalStore> {
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const address = await server.run();
  return { endpoint: `http://127.0.0.1:${address.port}`, port: address.port, close: () => server.close() };
}
