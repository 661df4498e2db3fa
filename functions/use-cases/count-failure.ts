import { FailureCount } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { readJson, writeJson } from "../repo.ts";

export const MINUTE_MS = 60_000;

/** A code becomes part of a key: anything but a plain error code is counted as `OTHER`. */
const keyCode = (code: string): string => (/^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : "OTHER");

/**
 * Counts one request refused before anyone was authenticated, in its minute's counter for the
 * code. Nothing of the request is kept: one small object per minute and code, however many come.
 */
export async function countFailure(deps: CoordinatorDeps, code: string): Promise<void> {
  const minute = Math.floor(deps.clock.now() / MINUTE_MS);
  const key = keys.failureCount(minute, keyCode(code));
  try {
    // Read-modify-write: two Lambdas counting at once may lose an increment, which a counter of
    // refusals can afford; an unreadable counter starts again from zero.
    const known = await readJson(deps.store, key, FailureCount).catch(() => null);
    await writeJson(deps.store, key, { minute: minute * MINUTE_MS, code: keyCode(code), count: (known?.count ?? 0) + 1 } satisfies FailureCount);
  } catch (err) {
    deps.logger.error("could not count refused request", { code, err: String(err) });
  }
}
