import { randomBytes } from "node:crypto";
import type { Rejection } from "../../core/schemas/round.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";

/** Every rejected input is written down: a refusal must never lose its trace. */
export async function recordRejection(deps: CoordinatorDeps, r: Omit<Rejection, "at">): Promise<void> {
  const at = deps.clock.now();
  const id = `${String(at).padStart(15, "0")}-${randomBytes(4).toString("hex")}`;
  try {
    await writeJson(deps.store, keys.rejection(id), { at, ...r } satisfies Rejection);
  } catch (err) {
    deps.logger.error("could not record rejection", { ...r, err: String(err) });
  }
  deps.logger.warn("rejected input", { ...r });
}
