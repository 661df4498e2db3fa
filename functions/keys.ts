/**
 * Object-store keys (see docs/architecture.md). A run's keys (`federation.json`, `rounds/…`,
 * `models/…`) are written under its own prefix `runs/{seq}/` by the run-scoped store
 * (`adapters/run-store.ts`); the consortium's keys, which outlive runs, are not: see
 * CONSORTIUM_PREFIXES.
 */
export const keys = {
  federation: "federation.json",
  state: "state.json",
  preprocessing: "preprocessing.json",
  /** The coordinator-held validation rows of contribution scoring (raw cells, the federation's columns). */
  validation: "validation.json",
  /** Why the statistics collected so far do not merge; outside `stats/` so that it is never counted as a site's. */
  statsFailure: "stats-failure.json",
  site: (id: string) => `sites/${id}.json`,
  /** A site's credential revoked by the administrator: read on every request, never cached (it may appear at any time). */
  revoked: (id: string) => `revoked/${id}.json`,
  sites: "sites/",
  stats: (id: string) => `stats/${id}.json`,
  statsPrefix: "stats/",
  /** The data-quality checks' flags and the sites they excluded, fixed when the statistics phase completes. */
  quality: "quality.json",
  round: (r: number) => `rounds/${pad(r)}/round.json`,
  updateBin: (r: number, site: string) => `rounds/${pad(r)}/updates/${site}.bin`,
  updateManifest: (r: number, site: string) => `rounds/${pad(r)}/updates/${site}.json`,
  /** A site's refusal to train the round (its privacy budget). */
  decline: (r: number, site: string) => `rounds/${pad(r)}/declines/${site}.json`,
  declinesPrefix: (r: number) => `rounds/${pad(r)}/declines/`,
  updatesPrefix: (r: number) => `rounds/${pad(r)}/updates/`,
  /** Regional tiers, write-once: the round's regional aggregate (float32 mean of the included updates) and its manifest. */
  regionalAggregate: (r: number) => `rounds/${pad(r)}/regional-aggregate.bin`,
  regionalAggregateManifest: (r: number) => `rounds/${pad(r)}/regional-aggregate.json`,
  /** Asynchronous rounds, write-once: the round a site's update trained in round `r` was counted in instead. */
  forwarded: (r: number, site: string) => `rounds/${pad(r)}/forwarded/${site}.json`,
  /** Write-once copy of the bytes verified on acceptance; named by content, so a retried acceptance never conflicts. */
  acceptedBin: (r: number, site: string, sha256: string) => `rounds/${pad(r)}/accepted/${site}/${sha256}.bin`,
  /** Write-once: the sites whose updates the round aggregates, whoever fixes the set first. */
  includedSet: (r: number) => `rounds/${pad(r)}/included.json`,
  strategyState: (r: number) => `rounds/${pad(r)}/strategy-state.bin`,
  /** Contribution scoring, write-once: every update's scores and decision, and the reputations after the round. */
  roundScores: (r: number) => `rounds/${pad(r)}/scores.json`,
  /** Derived, written once after the round closed: the round as the status reads it, in one object (`use-cases/round-summary.ts`). */
  roundSummary: (r: number) => `summaries/${pad(r)}.json`,
  summariesPrefix: "summaries/",
  roundPrefix: (r: number) => `rounds/${pad(r)}/`,
  reputation: (r: number) => `rounds/${pad(r)}/reputation.json`,
  /** Secure aggregation, write-once: the round's session (config, participants, weights). */
  secureSession: (r: number) => `rounds/${pad(r)}/secure/session.json`,
  /** A site's message in one phase of a secure round. */
  secureMessage: (r: number, phase: string, site: string) => `rounds/${pad(r)}/secure/${phase}/${site}.json`,
  secureMessages: (r: number, phase: string) => `rounds/${pad(r)}/secure/${phase}/`,
  /** Write-once: the phase closed, with the sites whose messages it accepted. */
  securePhase: (r: number, phase: string) => `rounds/${pad(r)}/secure/${phase}.closed.json`,
  /** Where a site uploads its masked input (the accepted copy goes to `acceptedBin`). */
  maskedBin: (r: number, site: string) => `rounds/${pad(r)}/secure/masked-input/${site}.bin`,
  /** A site's long-term Ed25519 public key for secure aggregation, write-once. */
  identity: (site: string) => `identities/${site}.json`,
  identitiesPrefix: "identities/",
  roundsPrefix: "rounds/",
  modelWeights: (v: number) => `models/${pad(v)}/weights.bin`,
  modelManifest: (v: number) => `models/${pad(v)}/manifest.json`,
  modelControl: (v: number) => `models/${pad(v)}/control.bin`,
  /** The down-link delta from the model this version was aggregated from. */
  modelDelta: (v: number) => `models/${pad(v)}/delta.bin`,
  /** What the down-link has not yet sent of the strategy's models (the coordinator's error feedback). */
  downlinkResidual: (v: number) => `models/${pad(v)}/downlink-residual.bin`,
  evaluation: (site: string) => `evaluations/${site}.json`,
  evaluationsPrefix: "evaluations/",
  /**
   * The model registry, outside any run's keys (it outlives them): a version is reserved write-once
   * by its run (`run.json`), then its artifacts and card written once; `decision.json` records the
   * gate's judgement.
   */
  registryRun: (v: number) => `registry/versions/${pad(v)}/run.json`,
  registryCard: (v: number) => `registry/versions/${pad(v)}/card.json`,
  registryWeights: (v: number) => `registry/versions/${pad(v)}/weights.bin`,
  registryPreprocessing: (v: number) => `registry/versions/${pad(v)}/preprocessing.json`,
  registryDecision: (v: number) => `registry/versions/${pad(v)}/decision.json`,
  registryVersionsPrefix: "registry/versions/",
  /** A run's registration, by the run's identity (its id, config hash and final model's digest): done, or how often it failed. */
  registryRunDone: (runKey: string) => `registry/runs/${runKey}.json`,
  registryRunFailures: (runKey: string) => `registry/runs/${runKey}.failures.json`,
  /** The champion's history, write-once entries: the pointer is the latest, moved by writing the next if absent (compare-and-swap). */
  championEntry: (seq: number) => `registry/champion/${pad(seq)}.json`,
  championPrefix: "registry/champion/",
  audit: (seq: string) => `audit/${seq}.json`,
  /** A site's credentials after enrolment's, and the marks that end them, one per generation, written once. */
  siteCredential: (id: string, generation: number) => `site-credentials/${id}/${pad(generation)}.json`,
  siteCredentialsPrefix: (id: string) => `site-credentials/${id}/`,
  /** A named operator (`core/schemas/operators.ts`), written once; revoked by the marker beside it, read on every request. */
  operator: (name: string) => `operators/${name}.json`,
  operatorsPrefix: "operators/",
  operatorRevoked: (name: string) => `operators-revoked/${name}.json`,
  /** The consortium's hash-chained audit trail (`core/audit/trail.ts`): record n, write-once; zero-padded to 12 digits. */
  auditRecord: (seq: number) => `audit/trail/${String(seq).padStart(12, "0")}.json`,
  auditRecordsPrefix: "audit/trail/",
  /** Where the trail ends, as its last writer knew it (a hint: the records are the truth). */
  auditHead: "audit/trail-head.json",
  /** A signed checkpoint of the trail at record n, write-once. */
  auditCheckpoint: (seq: number) => `audit/checkpoints/${String(seq).padStart(12, "0")}.json`,
  auditCheckpointsPrefix: "audit/checkpoints/",
  /** That a model was handed to a site, written once: its download is recorded once, however often the site asks. */
  auditDownload: (site: string, object: string) => `audit/downloads/${site}/${object}.json`,
  rejection: (id: string) => `rejections/${id}.json`,
  rejectionsPrefix: "rejections/",
  /** Refusals before authentication, one counter per minute (since the epoch) and code, grouped by hour. */
  failureCount: (minute: number, code: string) => `failures/${Math.floor(minute / 60)}/${minute}-${code}.json`,
  failuresOfHour: (hour: number) => `failures/${hour}/`,
  /** The consortium's standing agreement, written once; each run's `federation.json` is a copy with the run's id. */
  consortium: "consortium/config.json",
  /** A run's record, written once when it starts. */
  run: (seq: number) => `consortium/runs/${pad(seq)}.json`,
  runsPrefix: "consortium/runs/",
  /** The run the sites work on (an index of the run records, repaired from them). */
  activeRun: "consortium/active-run.json",
  /** A reason to train, written once; named by time so that listing order is arrival order. */
  trigger: (at: number, kind: string, tag: string) => `consortium/triggers/${String(Math.max(0, Math.floor(at))).padStart(15, "0")}-${kind}-${tag}.json`,
  triggersPrefix: "consortium/triggers/",
  /** A tag a trigger is raised once for, claimed write-once by the trigger's writer. */
  triggerTag: (kind: string, tag: string) => `consortium/trigger-tags/${kind}-${tag}.json`,
  /** An operator stopped the run before it finished: it registers nothing, and the next run may start. */
  abandoned: "abandoned.json",
  /** A region's run: the global run it relays, fixed by the first global task that names one. */
  globalRun: "global-run.json",
  /** The champion the run's evaluation compares its model with, fixed once when the evaluation begins. */
  evaluationChampion: "evaluation-champion.json",
  /** A site's check-in, write-once, and its latest (rewritten at each). */
  checkIn: (site: string, at: number) => `consortium/checkins/${site}/${String(Math.max(0, Math.floor(at))).padStart(15, "0")}.json`,
  latestCheckIn: (site: string) => `consortium/checkins-latest/${site}.json`,
  latestCheckInsPrefix: "consortium/checkins-latest/",
  /** A site whose new data drift keeps out of training (removed by a check-in without the flag). */
  driftExclusion: (site: string) => `consortium/drift-exclusions/${site}.json`,
  driftExclusionsPrefix: "consortium/drift-exclusions/",
  /** How the run's first model was made (the parent's body or fresh weights), written once. */
  warmStart: "warm-start.json",
  /** Where a run's own keys live. */
  runPrefix: (seq: number) => `runs/${pad(seq)}/`,
};

/**
 * Keys that belong to the consortium rather than to one run: its agreement, runs and triggers,
 * enrolled and revoked sites, long-term identities, the model registry, the refusal records,
 * the coordinator-held validation rows of contribution scoring, and the audit trail.
 * The run-scoped store leaves them unprefixed, so every run sees the same ones.
 */
export const CONSORTIUM_PREFIXES = ["consortium/", "sites/", "revoked/", "identities/", "registry/", "rejections/", "failures/", "validation.json", "audit/trail/", "audit/trail-head.json", "audit/checkpoints/", "audit/downloads/", "operators/", "operators-revoked/", "site-credentials/"] as const;

/** Zero-padded so that lexicographic listing is numeric order. */
function pad(n: number): string {
  return String(n).padStart(6, "0");
}
