/**
 * @module
 * One HTTP call to the coordinator through Hono's RPC client (`hc` over the routes' own types,
 * `functions/routes`): the request is built from the route definition, so a path or body the
 * coordinator does not take fails to compile; the answer is parsed with its schema, since the
 * coordinator's answers cross a trust boundary too. Only the routes' types are imported: nothing
 * of the coordinator runs in a client.
 */
import { hc } from "hono/client";
import type { z } from "zod";
import { ConsiliumError } from "../core/errors.ts";
import type { ConsiliumApi } from "../functions/routes/index.ts";

/** Bytes fetched from and sent to the coordinator and the store, for the report. */
export interface Traffic {
  up: number;
  down: number;
}

/** The typed client of the coordinator's API, bearing `token`; `fetchFn` sends every request. */
export function apiClient(baseUrl: string, token: string, fetchFn: typeof fetch) {
  return hc<ConsiliumApi>(baseUrl, { fetch: fetchFn, headers: { authorization: `Bearer ${token}` } });
}

export type ApiClient = ReturnType<typeof apiClient>;

/** What a typed call answers before its body is read. */
interface Answer {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
}

/**
 * Reads an answer: its JSON parsed with `schema`, or a `ConsiliumError` with the coordinator's
 * own code and status for a refusal, `BAD_COORDINATOR_ANSWER` (502) for anything unreadable.
 */
export async function readAnswer<T extends z.ZodType>(what: string, answer: Answer, schema: T, traffic?: Traffic): Promise<z.infer<T>> {
  const text = await answer.text();
  if (traffic) traffic.down += text.length;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConsiliumError("BAD_COORDINATOR_ANSWER", `${what}: answer is not JSON (status ${answer.status})`, 502);
  }
  if (!answer.ok) {
    const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ConsiliumError(String(e?.code ?? "HTTP_" + answer.status), String(e?.message ?? text), answer.status);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ConsiliumError("BAD_COORDINATOR_ANSWER", `${what}: ${parsed.error.message}`, 502);
  return parsed.data;
}

/** How often, and how far apart, a request that met a dropped connection or a 5xx is sent again. */
export interface RetryPolicy {
  /** Attempts in all. */
  readonly attempts: number;
  /** Pause before the second attempt; each later pause doubles it. */
  readonly firstPauseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, firstPauseMs: 200 };

/**
 * Sends a request again when the connection fails or the answer is a 5xx (every call of the API
 * and every presigned store request is idempotent: a retried post meets its first copy). After the
 * last attempt a 5xx is returned for the caller to read; a failed connection is a `code` error
 * (503) naming `what` and the cause.
 */
export async function withRetries(send: () => Promise<Response>, code: string, what: string, policy: RetryPolicy = DEFAULT_RETRY): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await send();
      if (res.status < 500 || attempt >= policy.attempts) return res;
      await res.body?.cancel();
    } catch (err) {
      if (attempt >= policy.attempts) {
        const cause = err instanceof Error && err.cause ? ` (${String(err.cause)})` : "";
        throw new ConsiliumError(code, `${what}: ${String(err)}${cause}`, 503);
      }
    }
    await new Promise((r) => setTimeout(r, policy.firstPauseMs * 2 ** (attempt - 1)));
  }
}

/** `fetchFn` with `withRetries` for the coordinator's API, counting the bytes each request sends. */
export function retryingFetch(fetchFn: typeof fetch, traffic?: Traffic, policy: RetryPolicy = DEFAULT_RETRY): typeof fetch {
  return async (input, init) => {
    const what = `${init?.method ?? "GET"} ${typeof input === "string" ? input : input instanceof URL ? input.href : input.url}`;
    const res = await withRetries(() => fetchFn(input, init), "COORDINATOR_UNREACHABLE", what, policy);
    if (traffic && typeof init?.body === "string") traffic.up += init.body.length;
    return res;
  };
}
