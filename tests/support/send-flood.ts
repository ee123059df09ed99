/**
 * Sends a flood (tests/support/flood.ts) through a Worker's public /v1/chat/completions, a
 * few requests at a time, each with its client's CF-Connecting-IP and the API's defaults
 * (no temperature or max_tokens given), and records what came back.
 */
import type { FloodRequest } from "./flood.js";

/** What one request of the flood got. */
export interface FloodResponse {
  status: number;
  /** The x-model-version header: the version that answered. */
  version: string;
  /** The answer text ("" when the request failed). */
  text: string;
}

/** POSTs one request; a socket workerd closed while this thread was busy fails before any answer, so it is retried once. */
async function send(url: string, r: FloodRequest): Promise<FloodResponse> {
  const init = {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": r.ip },
    body: JSON.stringify({ model: "sande-demo", messages: [{ role: "user", content: r.content }] }),
  };
  const res = await fetch(`${url}/v1/chat/completions`, init).catch(() => fetch(`${url}/v1/chat/completions`, init));
  const version = res.headers.get("x-model-version") ?? "";
  if (!res.ok) return { status: res.status, version, text: await res.text() };
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return { status: res.status, version, text: body.choices[0].message.content };
}

/** Sends every request, `concurrency` at a time; the responses come back in request order. */
export async function sendFlood(
  url: string,
  requests: readonly FloodRequest[],
  concurrency = 4,
): Promise<FloodResponse[]> {
  const out: FloodResponse[] = new Array<FloodResponse>(requests.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      out[i] = await send(url, requests[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}
