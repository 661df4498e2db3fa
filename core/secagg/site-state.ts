import { z } from "zod";
import { hexBytes } from "./hex.ts";
import { SiteIndex } from "./messages.ts";
import { FIELD_BYTES } from "./prime-field.ts";
import { SecAggConfig } from "./secagg-config.ts";

/** A neighbour's verified round keys, as its advertisement gave them. */
export const NeighbourKeys = z.object({ site: SiteIndex, cipherPublicKey: hexBytes(32), maskPublicKey: hexBytes(32) });
export type NeighbourKeys = z.infer<typeof NeighbourKeys>;

/** What this site holds of neighbour `from`: its shares of that neighbour's mask key and self-mask seed. */
export const HeldShares = z.object({ from: SiteIndex, maskKeyShare: hexBytes(FIELD_BYTES), selfSeedShare: hexBytes(FIELD_BYTES) });
export type HeldShares = z.infer<typeof HeldShares>;

/** A share this site has revealed: of which peer, and which kind. */
export const Revealed = z.object({ of: SiteIndex, kind: z.enum(["self-seed", "mask-key"]) });
export type Revealed = z.infer<typeof Revealed>;

/**
 * A site's state in one round between phases: a serialisable value the site persists between
 * tasks and passes back in (`advertiseKeys` → `shareKeys` → `maskUpdate` → `revealShares`). It
 * holds the round's secret keys, self-mask seed and the shares entrusted to the site: keep it as
 * secret as a private key, never upload it, and delete it when the round closes. `revealed` is the
 * record that keeps the site from ever revealing both kinds of share of one peer.
 */
export const SiteState = z.object({
  config: SecAggConfig,
  site: SiteIndex,
  phase: z.enum(["advertised", "shared", "masked", "revealing"]),
  cipherSecret: hexBytes(32),
  maskSecret: hexBytes(32),
  maskPublicKey: hexBytes(32),
  selfSeed: hexBytes(32).optional(),
  neighbourKeys: z.array(NeighbourKeys).default([]),
  held: z.array(HeldShares).default([]),
  revealed: z.array(Revealed).default([]),
});
export type SiteState = z.infer<typeof SiteState>;
