import { createHash } from "node:crypto";
import type { Table } from "../../core/preprocess/table.ts";
import { applyPreprocessing, type Dataset } from "../../core/preprocess/transform.ts";
import type { Preprocessing } from "../../core/schemas/preprocessing.ts";
import type { Attack } from "../simulation/attack.ts";
import { silentLogger, type Logger } from "../../core/logger.ts";
import type { CoordinatorClient } from "../../client/coordinator-client.ts";
import type { Residual } from "./site-state.ts";
import type { PrivacyLedger } from "../privacy/privacy-ledger.ts";
import type { SiteSpeed } from "../simulation/site-speed.ts";
import type { Identity } from "../../core/secagg/identity.ts";
import type { SiteState } from "../../core/secagg/site-state.ts";

/**
 * What a runner carries from one task to the next: its data, transformed once, its control
 * variate and its error-feedback residual (both also saved under `stateDir` when there is one).
 */
export interface SiteSession {
  readonly siteId: string;
  readonly client: CoordinatorClient;
  readonly stateDir?: string;
  /** Mixed into every task seed, so that sites draw different minibatches from one seed. */
  readonly siteSeed: number;
  /** The site's rows under the consortium's preprocessing (recomputed only if it changes). */
  prepared(prep: Preprocessing): { train: Dataset; test: Dataset };
  siteControl: Float32Array | null;
  residual: Residual | null;
  /** Ditto's personal model of the current federation (also saved under `stateDir`), once the site has trained a round under it. */
  ditto: { readonly federation: string | null; readonly body: Float32Array } | null;
  /** fedrep's personal head of the current federation (also saved under `stateDir`), once the site has trained a round under it. */
  fedrepHead: { readonly federation: string | null; readonly head: Float32Array } | null;
  /** The last model downloaded, the base a down-link delta is added to (memory only: a restarted runner downloads one whole model). */
  held: { readonly version: number; readonly values: Float32Array } | null;
  /** The privacy ledger (also saved under `stateDir`), once the site has trained under a policy. */
  ledger: PrivacyLedger | null;
  /** The site's own cap on ε, below the consortium's policy (a data-use agreement may allow less). */
  readonly privacyCap?: number;
  readonly logger: Logger;
  /** Simulation only: this site is malicious and sends poisoned updates. */
  readonly attack?: Attack;
  /** Simulation only: this site's compute and link speed (`site-speed.ts`). */
  readonly speed?: SiteSpeed;
  /** Secure aggregation: the site's long-term identity, once loaded. */
  identity: Identity | null;
  /** Secure aggregation: the current round's protocol state (also kept under `stateDir`). */
  secure: SiteState | null;
  /** For audits and tests: sees, in each secure round, the codes this site masked and what it uploaded. */
  readonly onMasked?: (round: number, codes: Uint32Array, masked: Uint32Array) => void;
}

export function createSession(
  siteId: string,
  client: CoordinatorClient,
  data: { train: Table; test: Table },
  stateDir?: string,
  attack?: Attack,
  logger: Logger = silentLogger,
  privacyCap?: number,
  speed?: SiteSpeed,
  onMasked?: SiteSession["onMasked"],
): SiteSession {
  let cache: { key: string; train: Dataset; test: Dataset } | null = null;
  return {
    siteId,
    client,
    stateDir,
    siteSeed: createHash("sha256").update(siteId).digest().readUInt32LE(0),
    prepared(prep) {
      const key = JSON.stringify(prep);
      if (cache?.key !== key) cache = { key, train: applyPreprocessing(data.train, prep), test: applyPreprocessing(data.test, prep) };
      return cache;
    },
    siteControl: null,
    residual: null,
    ditto: null,
    fedrepHead: null,
    held: null,
    ledger: null,
    ...(privacyCap !== undefined && { privacyCap }),
    logger,
    attack,
    ...(speed && { speed }),
    identity: null,
    secure: null,
    ...(onMasked && { onMasked }),
  };
}
