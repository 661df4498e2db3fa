import { describe, expect, it } from "vitest";
import { admit, type AdmitOutcome } from "./admit.ts";
import { AsyncPolicy } from "./async-policy.ts";
import { BufferState, emptyBuffer, type Arrival } from "./buffer-state.ts";

const arrival = (siteId: string, baseVersion: number, samples = 10, key = `${siteId}@${baseVersion}`): Arrival => ({ siteId, baseVersion, samples, key });

/** Admits each arrival in turn, returning the final state and every outcome. */
function admitAll(state: BufferState, arrivals: readonly Arrival[], policy: AsyncPolicy): { state: BufferState; outcomes: AdmitOutcome[] } {
  const outcomes: AdmitOutcome[] = [];
  for (const a of arrivals) {
    const r = admit(state, a, policy);
    state = r.state;
    outcomes.push(r.outcome);
  }
  return { state, outcomes };
}

const flushOf = (o: AdmitOutcome | undefined) => (o?.kind === "flush" ? o : expect.fail(`expected a flush, got ${o?.kind}`));

describe("admit: flushing", () => {
  it("flushes exactly every K admissions, moving the version each time", () => {
    // Prepare
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 10, weighting: { kind: "constant" } });
    const arrivals = Array.from({ length: 9 }, (_, i) => arrival(`s${i}`, 0));

    // Execute
    const { state, outcomes } = admitAll(emptyBuffer(), arrivals, policy);

    // Assert
    expect(outcomes.map((o) => o.kind)).toEqual(["buffered", "buffered", "flush", "buffered", "buffered", "flush", "buffered", "buffered", "flush"]);
    expect(outcomes.filter((o) => o.kind === "flush").map((o) => flushOf(o).version)).toEqual([1, 2, 3]);
    expect(state.version).toBe(3);
    expect(state.pending).toEqual([]);
  });

  it("lists the buffer's updates in canonical order, weighted samples × staleness weight", () => {
    // Prepare: version 3; b trained from 3 (staleness 0), a from 0 (staleness 3), c from 2 (staleness 1)
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5, weighting: { kind: "polynomial", a: 0.5 } });
    const start = emptyBuffer(3);

    // Execute
    const { outcomes } = admitAll(start, [arrival("b", 3, 40), arrival("a", 0, 100), arrival("c", 2, 9)], policy);

    // Assert
    const flush = flushOf(outcomes[2]);
    expect(flush.version).toBe(4);
    expect(flush.entries.map((e) => [e.siteId, e.baseVersion, e.staleness])).toEqual([["a", 0, 3], ["b", 3, 0], ["c", 2, 1]]);
    expect(flush.entries[0]!.weight).toBeCloseTo(50, 12); // 100 × 4^-0.5
    expect(flush.entries[1]!.weight).toBeCloseTo(40, 12);
    expect(flush.entries[2]!.weight).toBeCloseTo(9 / Math.SQRT2, 12);
  });

  it("gives the same flush whatever order the buffer's updates arrived in", () => {
    // Prepare
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5 });
    const updates = [arrival("x", 1, 5), arrival("y", 2, 6), arrival("x", 2, 7)];

    // Execute
    const forward = admitAll(emptyBuffer(2), updates, policy).outcomes[2];
    const backward = admitAll(emptyBuffer(2), [...updates].reverse(), policy).outcomes[2];

    // Assert
    expect(backward).toEqual(forward);
  });

  it("counts an update from an older version arriving after a newer one by its own base version", () => {
    // Prepare: version 5; the update from version 4 arrives before the one from version 1
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 6, weighting: { kind: "hinge", a: 1, b: 1 } });

    // Execute
    const { outcomes } = admitAll(emptyBuffer(5), [arrival("new", 4), arrival("old", 1), arrival("now", 5)], policy);

    // Assert
    expect(outcomes[0]).toEqual({ kind: "buffered", staleness: 1, pending: 1 });
    expect(outcomes[1]).toEqual({ kind: "buffered", staleness: 4, pending: 2 });
    const flush = flushOf(outcomes[2]);
    expect(flush.entries.map((e) => [e.siteId, e.staleness, e.weight])).toEqual([["new", 1, 10], ["now", 0, 10], ["old", 4, 2.5]]); // 10 / (1·(4 − 1) + 1)
  });
});

describe("admit: duplicates", () => {
  const policy = AsyncPolicy.parse({ bufferSize: 2, maxStaleness: 3 });

  it("ignores a repeat of a buffered update, returning the state unchanged", () => {
    // Prepare
    const first = admit(emptyBuffer(), arrival("a", 0), policy);

    // Execute
    const again = admit(first.state, arrival("a", 0), policy);

    // Assert
    expect(again.outcome).toEqual({ kind: "duplicate", reason: "update a@0 from a is already buffered" });
    expect(again.state).toBe(first.state);
  });

  it("ignores a repeat of an update already flushed", () => {
    // Prepare
    const { state } = admitAll(emptyBuffer(), [arrival("a", 0), arrival("b", 0)], policy);
    const snapshot = structuredClone(state);

    // Execute
    const again = admit(state, arrival("b", 0), policy);

    // Assert
    expect(again.outcome).toEqual({ kind: "duplicate", reason: "update b@0 from b was already applied in version 1" });
    expect(again.state).toEqual(snapshot);
  });

  it("keeps the last maxStaleness + 1 flushes, and refuses a repeat of an older one as stale", () => {
    // Prepare: five flushes from version 0 to 5, each of one update per site at the then current version
    const arrivals = [0, 1, 2, 3, 4].flatMap((v) => [arrival("a", v), arrival("b", v)]);

    // Execute
    const { state } = admitAll(emptyBuffer(), arrivals, policy);
    const repeat = admit(state, arrival("a", 0), policy);

    // Assert
    expect(state.flushed.map((f) => f.version)).toEqual([2, 3, 4, 5]);
    expect(repeat.outcome.kind).toBe("stale");
    expect(repeat.state).toBe(state);
  });
});

describe("admit: refusals", () => {
  const policy = AsyncPolicy.parse({ bufferSize: 2, maxStaleness: 3 });

  it("refuses an update beyond the staleness bound with a reason, leaving the buffer as it was", () => {
    // Prepare
    const start = admit(emptyBuffer(7), arrival("a", 6), policy).state;

    // Execute
    const refused = admit(start, arrival("b", 3), policy);

    // Assert
    expect(refused.outcome).toEqual({
      kind: "stale",
      staleness: 4,
      reason: "update b@3 from b was trained from version 3, 4 versions behind the server's 7; the bound is 3",
    });
    expect(refused.state).toBe(start);
    expect(refused.state.pending).toEqual([arrival("a", 6)]);
  });

  it("accepts an update exactly at the staleness bound", () => {
    expect(admit(emptyBuffer(7), arrival("b", 4), policy).outcome).toEqual({ kind: "buffered", staleness: 3, pending: 1 });
  });

  it("refuses an update claiming a version the server has not reached", () => {
    // Execute
    const refused = admit(emptyBuffer(2), arrival("a", 3), policy);

    // Assert
    expect(refused.outcome).toEqual({ kind: "invalid", reason: "update a@3 from a claims base version 3, ahead of the server's 2" });
    expect(refused.state.pending).toEqual([]);
  });

  it("takes one update per site and base version: a retrained one with another key is refused", () => {
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 5, weighting: { kind: "constant" } });
    const first = admit(emptyBuffer(2), { siteId: "a", baseVersion: 2, samples: 10, key: "k1" }, policy);
    const again = admit(first.state, { siteId: "a", baseVersion: 2, samples: 10, key: "k2" }, policy);
    expect(again.outcome).toEqual({ kind: "duplicate", reason: "update k2 from a: site a already sent an update trained from version 2" });
    expect(again.state).toBe(first.state);
    // From the next version on, the site's updates are new.
    expect(admit(first.state, { siteId: "a", baseVersion: 1, samples: 10, key: "k3" }, policy).outcome.kind).toBe("buffered");
  });
});
