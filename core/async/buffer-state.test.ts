import { describe, expect, it } from "vitest";
import { admit } from "./admit.ts";
import { AsyncPolicy } from "./async-policy.ts";
import { BufferState, emptyBuffer, type Arrival } from "./buffer-state.ts";

const arrival = (siteId: string, baseVersion: number, samples: number): Arrival => ({ siteId, baseVersion, samples, key: `sha-${siteId}-${baseVersion}` });

describe("BufferState", () => {
  const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 2, weighting: { kind: "polynomial", a: 0.5 } });
  // Two flushes and one update pending: every field of the state is in use.
  const arrivals = [arrival("a", 0, 10), arrival("b", 0, 20), arrival("c", 0, 30), arrival("a", 1, 11), arrival("c", 1, 31), arrival("b", 1, 21), arrival("a", 2, 12)];
  const state = arrivals.reduce((s, a) => admit(s, a, policy).state, emptyBuffer());

  it("round-trips through JSON", () => {
    // Execute
    const parsed = BufferState.parse(JSON.parse(JSON.stringify(state)));

    // Assert
    expect(state.flushed).toHaveLength(2);
    expect(state.pending).toHaveLength(1);
    expect(parsed).toEqual(state);
  });

  it("admits after a round trip exactly as before it", () => {
    // Prepare
    const parsed = BufferState.parse(JSON.parse(JSON.stringify(state)));
    const next = [arrival("c", 2, 32), arrival("b", 1, 21), arrival("b", 2, 22)];

    // Execute
    const direct = next.map((a) => admit(state, a, policy));
    const restored = next.map((a) => admit(parsed, a, policy));

    // Assert
    expect(restored).toEqual(direct);
    expect(direct.map((r) => r.outcome.kind)).toEqual(["buffered", "duplicate", "buffered"]);
    const twoMore = admit(admit(parsed, next[0]!, policy).state, next[2]!, policy);
    expect(twoMore).toEqual(admit(admit(state, next[0]!, policy).state, next[2]!, policy));
    expect(twoMore.outcome.kind).toBe("flush");
  });

  it.each([
    ["a negative version", { version: -1, pending: [], flushed: [] }],
    ["an update without samples", { version: 0, pending: [{ siteId: "a", baseVersion: 0, key: "k" }], flushed: [] }],
    ["a flush without weights", { version: 1, pending: [], flushed: [{ version: 1, entries: [{ siteId: "a", baseVersion: 0, samples: 1, key: "k" }] }] }],
  ])("refuses %s", (_, input) => {
    expect(BufferState.safeParse(input).success).toBe(false);
  });
});
