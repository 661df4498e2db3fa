/**
 * @module
 * The wire formats of one secure-aggregation round, one schema per message, all relayed by the
 * coordinator (sites never talk to each other). Binary fields are lower-case hex of fixed length;
 * every message names its session (`sessionId(config)`), round and site; peer lists are strictly
 * ascending, so that each message has one canonical form to sign.
 */
import { z } from "zod";
import { hexBytes } from "./hex.ts";
import { FIELD_BYTES } from "./prime-field.ts";

/** A site index, 1..n; also its Shamir share id. */
export const SiteIndex = z.number().int().min(1);
const Session = hexBytes(32);
const Round = z.number().int().positive();
const Signature = hexBytes(64);
const Ascending = z.array(SiteIndex).refine((xs) => xs.every((x, i) => i === 0 || x > xs[i - 1]!), { message: "site lists must be strictly ascending" });

/** Plaintext of one encrypted share: the share of the sender's mask key, then of its self-mask seed. */
export const SHARE_PLAINTEXT_BYTES = 2 * FIELD_BYTES;
/** AES-256-GCM tag bytes, appended to the ciphertext. */
export const TAG_BYTES = 16;

/**
 * Phase 0, site → coordinator → the site's neighbours: the round's two X25519 public keys (one
 * to encrypt shares, one to derive pairwise masks), signed with the site's Ed25519 identity.
 */
export const AdvertiseKeys = z.object({
  kind: z.literal("advertise-keys"),
  session: Session,
  round: Round,
  site: SiteIndex,
  cipherPublicKey: hexBytes(32),
  maskPublicKey: hexBytes(32),
  signature: Signature,
});
export type AdvertiseKeys = z.infer<typeof AdvertiseKeys>;

/**
 * Phase 1, one share pair from `from` to `to`, relayed as is: AES-256-GCM under the pair's cipher
 * key, with session, round, `from` and `to` bound into the associated data.
 */
export const EncryptedShare = z.object({
  kind: z.literal("encrypted-share"),
  session: Session,
  round: Round,
  from: SiteIndex,
  to: SiteIndex,
  nonce: hexBytes(12),
  ciphertext: hexBytes(SHARE_PLAINTEXT_BYTES + TAG_BYTES),
});
export type EncryptedShare = z.infer<typeof EncryptedShare>;

/** Phase 1, site → coordinator: one encrypted share pair per neighbour that advertised keys, ascending by `to`. */
export const ShareKeys = z
  .object({ kind: z.literal("share-keys"), session: Session, round: Round, site: SiteIndex, shares: z.array(EncryptedShare) })
  .refine((m) => m.shares.every((s, i) => i === 0 || s.to > m.shares[i - 1]!.to), { message: "shares must be strictly ascending by recipient", path: ["shares"] });
export type ShareKeys = z.infer<typeof ShareKeys>;

/**
 * Phase 2, site → coordinator, beside the masked vector (a binary object of `length` little-endian
 * u32, `byteLength` bytes, SHA-256 `sha256`): the neighbours whose pairwise masks it holds
 * (`maskedWith`) and a commitment SHA-256(session ‖ site ‖ self-mask seed) that lets the
 * coordinator check the seed it later rebuilds. Signed.
 */
export const MaskedInputManifest = z.object({
  kind: z.literal("masked-input"),
  session: Session,
  round: Round,
  site: SiteIndex,
  length: z.number().int().positive(),
  byteLength: z.number().int().positive(),
  sha256: hexBytes(32),
  maskedWith: Ascending,
  selfSeedCommitment: hexBytes(32),
  signature: Signature,
});
export type MaskedInputManifest = z.infer<typeof MaskedInputManifest>;

/**
 * Phase 3, coordinator → site: whose self-mask seed shares (neighbours that sent masked inputs) and
 * whose mask-key shares (neighbours that shared keys but sent no masked input) to reveal.
 */
export const UnmaskRequest = z.object({
  kind: z.literal("unmask-request"),
  session: Session,
  round: Round,
  site: SiteIndex,
  selfSeedOf: Ascending,
  maskKeyOf: Ascending,
});
export type UnmaskRequest = z.infer<typeof UnmaskRequest>;

/** One revealed share: the share the answering site holds of peer `of`'s secret. */
export const RevealedShare = z.object({ of: SiteIndex, share: hexBytes(FIELD_BYTES) });
export type RevealedShare = z.infer<typeof RevealedShare>;

const AscendingShares = z.array(RevealedShare).refine((xs) => xs.every((x, i) => i === 0 || x.of > xs[i - 1]!.of), { message: "revealed shares must be strictly ascending by peer" });

/** Phase 3, site → coordinator: the shares asked for, never both kinds for one peer. Signed. */
export const UnmaskingShares = z.object({
  kind: z.literal("unmasking"),
  session: Session,
  round: Round,
  site: SiteIndex,
  selfSeedShares: AscendingShares,
  maskKeyShares: AscendingShares,
  signature: Signature,
});
export type UnmaskingShares = z.infer<typeof UnmaskingShares>;

/** Any secure-aggregation message, by `kind`. */
export const SecAggMessage = z.discriminatedUnion("kind", [AdvertiseKeys, EncryptedShare, ShareKeys, MaskedInputManifest, UnmaskRequest, UnmaskingShares]);
export type SecAggMessage = z.infer<typeof SecAggMessage>;
