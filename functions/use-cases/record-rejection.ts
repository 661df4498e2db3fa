import { randomBytes } from "node:crypto";
import { Rejection } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";

/** Longest message a rejection keeps: enough for any refusal's reason, not for a copy of what was sent. */
export const MAX_REJECTION_MESSAGE = 1000;

/** `text` cut to `max` characters, saying how much was left out. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 24)}… (${text.length - max + 24} more)`;
}

/** Every rejected input is written down: a refusal must never lose its trace. */
export async function recordRejection(deps: CoordinatorDeps, r: Omit<Rejection, "at">): Promise<void> {
  const at = deps.clock.now();
  const id = `${String(at).padStart(15, "0")}-${randomBytes(4).toString("hex")}`;
  // Checked before it is written: a record its own schema refuses would break every later read of the log.
  const parsed = Rejection.safeParse({ at, ...r, message: clip(String(r.message), MAX_REJECTION_MESSAGE) });
  const record: Rejection = parsed.success ? parsed.data : { at, siteId: null, round: null, code: "UNRECORDABLE_REJECTION", message: `a rejection (${String(r.code).slice(0, 64)}) could not be recorded as it came` };
  try {
    await writeJson(deps.store, keys.rejection(id), record);
  } catch (err) {
    deps.logger.error("could not record rejection", { ...record, err: String(err) });
  }
  deps.logger.warn("rejected input", { ...record });
}
