import { randomBytes } from "node:crypto";
import { Rejection } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";

/** Every rejected input is written down: a refusal must never lose its trace. */
export async function recordRejection(deps: CoordinatorDeps, r: Omit<Rejection, "at">): Promise<void> {
  const at = deps.clock.now();
  const id = `${String(at).padStart(15, "0")}-${randomBytes(4).toString("hex")}`;
  // Checked before it is written: a record its own schema refuses would break every later read of the log.
  const parsed = Rejection.safeParse({ at, ...r });
  const record: Rejection = parsed.success ? parsed.data : { at, siteId: null, round: null, code: "UNRECORDABLE_REJECTION", message: `a rejection (${String(r.code).slice(0, 64)}) could not be recorded as it came` };
  try {
    await writeJson(deps.store, keys.rejection(id), record);
  } catch (err) {
    deps.logger.error("could not record rejection", { ...r, err: String(err) });
  }
  deps.logger.warn("rejected input", { ...r });
}
