import { describe, expect, it } from "vitest";
import { retryAfterMs, withRetries, type RetryNotice } from "./api.ts";

/** Answers `failures` in turn (a Response, or an Error to throw), then 200. */
function flaky(failures: (Response | Error)[]) {
  let calls = 0;
  const send = async () => {
    const next = failures[calls++];
    if (next instanceof Error) throw next;
    return next ?? new Response("ok");
  };
  return { send, calls: () => calls };
}

describe("withRetries", () => {
  it("waits out refused connections, 5xx and 429 with growing, jittered pauses, and answers what came through", async () => {
    // Prepare
    const failures = [new TypeError("fetch failed"), new Response("", { status: 502 }), new Response("", { status: 503 }), new Response("", { status: 429 }), new TypeError("fetch failed")];
    const { send, calls } = flaky(failures);
    const notices: RetryNotice[] = [];
    // Execute
    const res = await withRetries(send, "COORDINATOR_UNREACHABLE", "GET /v1/task", { policy: { patienceMs: 10_000, firstPauseMs: 2, maxPauseMs: 8 }, onRetry: (n) => void notices.push(n) });
    // Assert
    expect([res.status, calls()]).toEqual([200, 6]);
    expect(notices.map((n) => n.reason)).toEqual(["TypeError: fetch failed", "HTTP 502", "HTTP 503", "HTTP 429", "TypeError: fetch failed"]);
    // Pause k lies in [step/2, step], step = min(8, 2·2^(k-1)).
    const steps = [2, 4, 8, 8, 8];
    notices.forEach((n, k) => expect(n.pauseMs >= steps[k]! / 2 && n.pauseMs <= steps[k]!).toBe(true));
  });

  it("honours Retry-After when it asks for longer than the backoff, and never pauses less", async () => {
    const { send } = flaky([new Response("", { status: 503, headers: { "retry-after": "1" } }), new Response("", { status: 503, headers: { "retry-after": "0" } })]);
    const notices: RetryNotice[] = [];
    await withRetries(send, "X", "what", { policy: { patienceMs: 10_000, firstPauseMs: 4, maxPauseMs: 8 }, onRetry: (n) => void notices.push(n) });
    expect(notices[0]!.pauseMs).toBe(1000);
    // "Retry-After: 0" still waits out the backoff's step (4 ms doubled to 8, at least half of it).
    expect(notices[1]!.pauseMs >= 4 && notices[1]!.pauseMs <= 8).toBe(true);
    expect(retryAfterMs("120")).toBe(120_000);
    expect(retryAfterMs("Wed, 21 Oct 2026 07:28:30 GMT", Date.parse("Wed, 21 Oct 2026 07:28:00 GMT"))).toBe(30_000);
    expect(retryAfterMs("soon")).toBeNull();
  });

  it("lets a 4xx through at once, and gives up on an outage once its patience is spent", async () => {
    const refused = flaky([new Response("", { status: 409 })]);
    expect((await withRetries(refused.send, "X", "what")).status).toBe(409);
    expect(refused.calls()).toBe(1);

    const down = { send: async (): Promise<Response> => Promise.reject(new TypeError("fetch failed")) };
    await expect(withRetries(down.send, "COORDINATOR_UNREACHABLE", "GET /v1/task", { policy: { patienceMs: 20, firstPauseMs: 2, maxPauseMs: 4 } })).rejects.toMatchObject({
      code: "COORDINATOR_UNREACHABLE", status: 503, message: "GET /v1/task: TypeError: fetch failed",
    });
    const busy = flaky(Array.from({ length: 1000 }, () => new Response("", { status: 503 })));
    expect((await withRetries(busy.send, "X", "what", { policy: { patienceMs: 20, firstPauseMs: 2, maxPauseMs: 4 } })).status).toBe(503);
  });

  it("stops waiting when its signal aborts", async () => {
    const controller = new AbortController();
    const down = async (): Promise<Response> => {
      controller.abort();
      throw new TypeError("fetch failed");
    };
    await expect(withRetries(down, "X", "what", { signal: controller.signal })).rejects.toThrow("fetch failed");
  });
});
