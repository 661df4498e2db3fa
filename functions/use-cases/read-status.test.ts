import { describe, expect, it } from "vitest";
import type { Rejection } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { Harness, T0 } from "../testing.ts";
import { readStatus } from "./read-status.ts";

describe("readStatus", () => {
  it("lists rejections by time, then by id, whatever order their keys list in", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    const rejection = (at: number, code: string): Rejection => ({ at, siteId: null, round: null, code, message: code.toLowerCase() });
    await writeJson(h.deps.store, keys.rejection("a"), rejection(T0 + 3, "FOURTH"));
    await writeJson(h.deps.store, keys.rejection("b"), rejection(T0 + 2, "THIRD"));
    await writeJson(h.deps.store, keys.rejection("z"), rejection(T0 + 1, "SECOND"));
    await writeJson(h.deps.store, keys.rejection("y"), rejection(T0 + 1, "FIRST"));
    // Execute
    const status = await readStatus(h.deps);
    // Assert
    expect(status.rejections.map((r) => r.code)).toEqual(["FIRST", "SECOND", "THIRD", "FOURTH"]);
    expect(status.blocked).toBeNull();
  });
});
