import { createHash } from "node:crypto";
import { fromHex } from "./hex.ts";

/**
 * SHA-256 over a domain tag, the session, the site and its self-mask seed: published in the
 * signed masked-input manifest so the coordinator can check the seed it rebuilds from shares. The
 * seed is 32 uniform bytes used once, so its hash reveals nothing useful about it.
 *
 * @example
 * selfSeedCommitment(session, 3, state.selfSeed); // "9b1d…"
 */
export function selfSeedCommitment(session: string, site: number, selfSeed: string | Uint8Array): string {
  const seed = typeof selfSeed === "string" ? fromHex(selfSeed) : selfSeed;
  return createHash("sha256").update(`consilium/secagg/v1 self-seed\n${session}\n${site}\n`).update(seed).digest("hex");
}
