/**
 * @module
 * Secure aggregation on the wire (SecAgg+, `core/secagg`): the federation's policy, the session the
 * coordinator fixes for each round, the record of each phase it closes, and what sites post in each
 * phase. The coordinator relays and checks; it never holds a site's update in the clear.
 */
import { z } from "zod";
import { hexBytes } from "../secagg/hex.ts";
import { AdvertiseKeys, EncryptedShare, MaskedInputManifest, ShareKeys, UnmaskingShares, UnmaskRequest } from "../secagg/messages.ts";
import { NeighbourhoodTargets } from "../secagg/neighbourhood-parameters.ts";
import { SecAggConfig } from "../secagg/secagg-config.ts";
import { PrivacySpent } from "./privacy.ts";
import { SubmittedCounts, SubmittedMulticlass } from "./round.ts";
import { SiteCount } from "./site-count.ts";
import { MAX_PARTS, UploadedPart } from "./upload.ts";

/** Bound on the L2 norm of a site's update before masking when the federation sets none. */
export const DEFAULT_SECURE_CLIP = 10;

/**
 * The consortium's switch for secure aggregation. Each round then runs the four phases of SecAgg+
 * (advertise keys, share keys, masked input, unmasking) through the task API; a key phase waits
 * `phaseSeconds` for sites before going on without them, the masked-input phase the round's
 * deadline. `clip` bounds each update's L2 norm before quantisation (the privacy policy's clip
 * under client-level privacy); `targets` size the neighbour graph (`neighbourhoodParameters`).
 */
export const SecureAggregationPolicy = z
  .object({
    phaseSeconds: z.number().int().min(1).max(86_400).default(60),
    clip: z.number().positive().max(1e6).default(DEFAULT_SECURE_CLIP),
    targets: NeighbourhoodTargets.partial().optional(),
    /**
     * The ring sites mask in: Z_2^32 (4 bytes a value, the default), or Z_2^16 (2 bytes) for a
     * consortium that bounds every coordinate by `range`: each site's codes then span ±range in
     * ⌊32767 / sites⌋ steps, coarse unless `range` is close to the coordinates' size. Rounds of
     * more than 258 sites, and rounds under client-level privacy (whose noise needs the room), use
     * 32 bits whatever this says.
     */
    bits: z.union([z.literal(16), z.literal(32)]).default(32),
    /** Per-coordinate bound on the clipped, scaled update (coordinates beyond it are clamped). */
    range: z.number().positive().max(1e6).optional(),
  })
  .refine((p) => p.bits === 32 || p.range !== undefined, { message: "a 16-bit ring needs a per-coordinate range: its resolution is range / ⌊32767 / sites⌋", path: ["range"] });
export type SecureAggregationPolicy = z.infer<typeof SecureAggregationPolicy>;

/** The phases of one secure round, in order. */
export const SecurePhase = z.enum(["advertise", "share-keys", "masked-input", "unmasking"]);
export type SecurePhase = z.infer<typeof SecurePhase>;

/**
 * One round's session, written once by whoever first needs it: the SecAgg+ config every site signs
 * into, the participants (site i of the protocol is `participants[i − 1]`), their public weights
 * and the scale each applies before masking (`weights[i] / max weight`), and how many updates the
 * round must sum for its noise (client-level privacy) or its secrecy to hold.
 */
export const SecureSession = z.object({
  config: SecAggConfig,
  participants: z.array(z.string()).min(3),
  /** Each participant's weight in the mean: its reported rows, or 1 under client-level privacy. */
  weights: z.array(z.number().positive()),
  /** Each participant's reported rows (its weight too, but under client-level privacy). */
  rows: z.array(z.number().int().positive()),
  /** Fewest masked inputs the round may sum. */
  minSummands: z.number().int().min(2),
  /** Under client-level privacy: the number of sites whose noise shares make the full noise. */
  noiseShares: z.number().int().positive().optional(),
  /** Random-k: the coordinates every site masks, drawn from this seed; all coordinates otherwise. */
  randk: z.object({ seed: z.number().int().nonnegative(), kept: z.number().int().positive(), gain: z.number().positive() }).optional(),
  createdAt: z.number(),
  /** When the advertise phase stops waiting. */
  advertiseBy: z.number(),
});
export type SecureSession = z.infer<typeof SecureSession>;

/** A closed phase (write-once): the sites whose messages it accepted, by protocol index, ascending. */
export const ClosedPhase = z.object({
  phase: SecurePhase,
  sites: z.array(z.number().int().positive()),
  closedAt: z.number(),
  /** The accepted advertisements, kept with the advertise phase's record for routing. */
  adverts: z.array(AdvertiseKeys).optional(),
});
export type ClosedPhase = z.infer<typeof ClosedPhase>;

/** What a site posts with its masked input: the signed manifest and what a plain update's manifest also says. */
export const MaskedInputPost = z.object({
  kind: z.literal("masked-input"),
  manifest: MaskedInputManifest,
  /** The round's base model on this site's held-out rows, before training (counts only). */
  baseMetrics: SubmittedCounts.optional(),
  /** A K-class model's counts of the round's model on the held-out rows (where a binary model sends `baseMetrics`). */
  baseClasses: SubmittedMulticlass.optional(),
  bytesDown: SiteCount.default(0),
  uploadId: z.string().min(1).optional(),
  parts: z.array(UploadedPart).max(MAX_PARTS).optional(),
  privacy: PrivacySpent.optional(),
  /** Set by the coordinator when it keeps the post. */
  receivedAt: z.number().optional(),
});
export type MaskedInputPost = z.infer<typeof MaskedInputPost>;

/** `POST /v1/rounds/:round/secure`: one phase's message from a site. */
export const SecurePost = z.discriminatedUnion("kind", [AdvertiseKeys, ShareKeys, MaskedInputPost, UnmaskingShares]);
export type SecurePost = z.infer<typeof SecurePost>;

/** A site's long-term Ed25519 public key, registered once (`POST /v1/identity`). */
export const IdentityRegistration = z.object({ publicKey: hexBytes(32) });
export type IdentityRegistration = z.infer<typeof IdentityRegistration>;

/** The masking instructions of a secure round's training task. */
export const SecureTrain = z.object({
  config: SecAggConfig,
  site: z.number().int().positive(),
  shares: z.array(EncryptedShare),
  /** Multiply the clipped update by this before quantising (the site's weight over the largest). */
  scale: z.number().positive().max(1),
  noiseShares: z.number().int().positive().optional(),
  randk: SecureSession.shape.randk,
});
export type SecureTrain = z.infer<typeof SecureTrain>;

/** The secure-aggregation tasks besides training. */
export const SecureTasks = [
  z.object({ kind: z.literal("identity"), reason: z.string() }),
  z.object({ kind: z.literal("secure-advertise"), round: z.number().int().positive(), config: SecAggConfig, site: z.number().int().positive() }),
  z.object({
    kind: z.literal("secure-share"),
    round: z.number().int().positive(),
    site: z.number().int().positive(),
    adverts: z.array(AdvertiseKeys),
    /** The registered identity keys of the neighbours whose advertisements are relayed. */
    identities: z.array(z.object({ site: z.number().int().positive(), publicKey: hexBytes(32) })),
  }),
  z.object({ kind: z.literal("secure-unmask"), round: z.number().int().positive(), request: UnmaskRequest }),
] as const;
