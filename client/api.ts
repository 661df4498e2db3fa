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

/**
 * How long and how often a request that met a dropped connection, a 5xx or a 429 is sent again:
 * exponential backoff with jitter, a `Retry-After` honoured, until `patienceMs` has passed since
 * the first attempt. A coordinator restarting, or down for maintenance, is waited out.
 */
export interface RetryPolicy {
  /** How long a failing request is tried again before its error stands. */
  readonly patienceMs: number;
  /** The pause before the second attempt; each later pause doubles, up to `maxPauseMs`. */
  readonly firstPauseMs: number;
  readonly maxPauseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { patienceMs: 30 * 60_000, firstPauseMs: 250, maxPauseMs: 30_000 };

/** What a retry says to whoever listens (the runner logs it). */
export interface RetryNotice {
  readonly what: string;
  readonly attempt: number;
  readonly pauseMs: number;
  readonly reason: string;
}

/** How a retrying request waits, and who hears of each retry. */
export interface RetryOptions {
  readonly policy?: RetryPolicy;
  readonly signal?: AbortSignal;
  readonly onRetry?: (notice: RetryNotice) => void;
}

/**
 * Sends a request again when the connection fails or the answer is a 5xx or a 429 (every call of
 * the API and every presigned store request is idempotent: a retried post meets its first copy),
 * for as long as the policy's patience lasts. Then a 5xx or 429 is returned for the caller to
 * read, and a failed connection is a `code` error (503) naming `what` and the cause.
 */
export async function withRetries(send: () => Promise<Response>, code: string, what: string, options: RetryOptions = {}): Promise<Response> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    let asked: number | null = null;
    try {
      const res = await send();
      if (res.status < 500 && res.status !== 429) return res;
      asked = retryAfterMs(res.headers.get("retry-after"));
      reason = `HTTP ${res.status}`;
      if (!worthWaiting(policy, started, attempt, asked, options)) return res;
      await res.body?.cancel();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      reason = `${String(err)}${err instanceof Error && err.cause ? ` (${String(err.cause)})` : ""}`;
      if (!worthWaiting(policy, started, attempt, null, options)) throw new ConsiliumError(code, `${what}: ${reason}`, 503);
    }
    const pauseMs = pauseFor(policy, attempt, asked);
    options.onRetry?.({ what, attempt, pauseMs, reason });
    await pause(pauseMs, options.signal);
  }
}

/** Whether another attempt fits in the policy's patience (and the caller has not given up). */
function worthWaiting(policy: RetryPolicy, started: number, attempt: number, asked: number | null, options: RetryOptions): boolean {
  if (options.signal?.aborted) return false;
  return Date.now() - started + pauseFor(policy, attempt, asked, 0) <= policy.patienceMs;
}

/**
 * The pause after `attempt` failures: half the doubled step plus a random half of it ("equal
 * jitter"), so that runners a restart threw off together do not come back together; longer when
 * `Retry-After` asks for longer (never shorter: an answer of 0 must not make a busy loop).
 * `jitter` 0 gives the shortest pause, for the patience check.
 */
function pauseFor(policy: RetryPolicy, attempt: number, asked: number | null, jitter = Math.random()): number {
  const step = Math.min(policy.maxPauseMs, policy.firstPauseMs * 2 ** (attempt - 1));
  return Math.max(asked ?? 0, step / 2 + (step / 2) * jitter);
}

/** `Retry-After` as milliseconds: seconds, or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `fetchFn` with `withRetries` for the coordinator's API, counting the bytes each request sends. */
export function retryingFetch(fetchFn: typeof fetch, traffic?: Traffic, options: RetryOptions = {}): typeof fetch {
  return async (input, init) => {
    const what = `${init?.method ?? "GET"} ${typeof input === "string" ? input : input instanceof URL ? input.href : input.url}`;
    const res = await withRetries(() => fetchFn(input, init), "COORDINATOR_UNREACHABLE", what, options);
    if (traffic && typeof init?.body === "string") traffic.up += init.body.length;
    return res;
  };
}
