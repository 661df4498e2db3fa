import type { KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import { ConfigError } from "../errors.ts";
import { applyMasks, type MaskTerm } from "./apply-masks.ts";
import { fromHex, toHex } from "./hex.ts";
import { maskedBytes } from "./masked-bytes.ts";
import type { EncryptedShare, MaskedInputManifest } from "./messages.ts";
import { pairwiseMaskSeed, shareEncryptionKey } from "./pair-keys.ts";
import { sessionId } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";
import { selfSeedCommitment } from "./self-seed-commitment.ts";
import { decryptShares } from "./share-cipher.ts";
import { signMessage } from "./signatures.ts";
import type { HeldShares, SiteState } from "./site-state.ts";
import { x25519PrivateKey } from "./x25519.ts";

/**
 * Site, phase 2 (MaskedInputCollection): opens the share pairs its neighbours sent through the
 * coordinator, keeps them, and masks its quantised update:
 *   y_i = x_i + PRG(b_i) + Σ_{j > i} PRG(s_ij) − Σ_{j < i} PRG(s_ij)   (mod 2^32)
 * over the neighbours j that sent shares, with s_ij from `pairwiseMaskSeed`. Returns the masked
 * vector (upload its `maskedBytes`) and the signed manifest to post beside it.
 * Throws `SecAggError`: a share that is not from a neighbour, not for this site or does not open;
 * `SECAGG_TOO_FEW_SHARES` when fewer than t neighbours sent shares (masking with so few would leave
 * the input exposed once its self-mask seed is recovered).
 *
 * @example
 * const { state: next, masked, manifest } = maskUpdate(state, task.shares, quantise(delta, config.quantisation, { rng }), identity.privateKey);
 */
export function maskUpdate(
  state: SiteState,
  incoming: readonly EncryptedShare[],
  quantised: Uint32Array,
  identity: KeyObject,
): { state: SiteState; masked: Uint32Array; bytes: Uint8Array; manifest: MaskedInputManifest } {
  const { config, site } = state;
  if (state.phase !== "shared" || state.selfSeed === undefined) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} cannot mask in round ${config.round}: it is in phase ${state.phase}`);
  if (quantised.length !== config.length) throw new ConfigError(`round ${config.round} masks vectors of ${config.length} values, got ${quantised.length}`);
  const session = sessionId(config);
  const keys = new Map(state.neighbourKeys.map((n) => [n.site, n]));
  const cipherKey = x25519PrivateKey(fromHex(state.cipherSecret));
  const held = new Map<number, HeldShares>();
  for (const share of incoming) {
    const peer = keys.get(share.from);
    if (peer === undefined) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} got a share from site ${share.from}, which is not a neighbour that advertised keys`);
    if (held.has(share.from)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} got two shares from site ${share.from}`);
    const key = shareEncryptionKey(session, cipherKey, fromHex(peer.cipherPublicKey), site, peer.site);
    const pair = decryptShares(key, share, { session, round: config.round, from: share.from, to: site });
    held.set(share.from, { from: share.from, maskKeyShare: toHex(pair.maskKey), selfSeedShare: toHex(pair.selfSeed) });
  }
  if (held.size < config.threshold) {
    throw new SecAggError("SECAGG_TOO_FEW_SHARES", `site ${site} holds shares from only ${held.size} neighbours, fewer than the threshold ${config.threshold}; it will not send a masked input`);
  }
  const maskedWith = [...held.keys()].sort((a, b) => a - b);
  const maskKey = x25519PrivateKey(fromHex(state.maskSecret));
  const terms: MaskTerm[] = [{ seed: fromHex(state.selfSeed), sign: 1 }];
  for (const peer of maskedWith) {
    const seed = pairwiseMaskSeed(session, maskKey, fromHex(keys.get(peer)!.maskPublicKey), site, peer);
    terms.push({ seed, sign: peer > site ? 1 : -1 });
  }
  const masked = applyMasks(quantised.slice(), terms);
  const bytes = maskedBytes(masked, config.quantisation.bits);
  const manifest = signMessage(
    {
      kind: "masked-input" as const,
      session,
      round: config.round,
      site,
      length: masked.length,
      byteLength: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      maskedWith,
      selfSeedCommitment: selfSeedCommitment(session, site, state.selfSeed),
    },
    identity,
  );
  return { state: { ...state, phase: "masked", held: maskedWith.map((peer) => held.get(peer)!) }, masked, bytes, manifest };
}
