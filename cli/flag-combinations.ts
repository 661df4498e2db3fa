/**
 * @module
 * How flags combine, as the commands behave today: which combinations run, which are refused and
 * why. `scripts/cli-docs.ts` renders the list into docs/cli.md ("Flags that compose").
 */

/** One combination of flags and what the command does with it. */
export interface FlagCombination {
  /** The flags as typed, after `consilium`. */
  readonly flags: string;
  readonly outcome: string;
}

/**
 * Every refusal comes before anything runs, with exit code 2: flag parsing's own, or "these flags
 * cannot run together" with the coordinator's reason (`federationProblem`), which a deployed
 * coordinator gives as 400 `INVALID_CONFIG` for the same federation. A recipe's default strategy
 * gives way to FedAvg, and the command says so, where the flags ask for what it cannot do.
 */
export const FLAG_COMBINATIONS: readonly FlagCombination[] = [
  { flags: "simulate --secure-aggregation", outcome: "Runs with FedAvg in place of the default recipe's scaffold, and says so; `coordinator --secure-aggregation` does the same." },
  { flags: "simulate --secure-aggregation --strategy median", outcome: "Refused: the coordinator sees only the sum of the updates, and median needs each one. The same for every per-update strategy (trimmed-mean, geomed, krum, centered-clip, robust) and for an explicit --strategy scaffold (control variates)." },
  { flags: "simulate --secure-aggregation --codec topk:0.1+int8", outcome: "Refused: top-k gives each site its own coordinates, which do not add up under masks." },
  { flags: "simulate --secure-aggregation --codec int8", outcome: "Runs: int8, int4, float16 and randk federations mask the shared fixed point in place of their per-site scales, so without their byte savings." },
  { flags: "simulate --secure-aggregation --scoring", outcome: "Refused: scoring compares each update with the others, which secure aggregation hides." },
  { flags: "simulate --secure-aggregation --mode async", outcome: "Refused: a secure round sums one synchronous round's masked inputs." },
  { flags: "simulate --secure-aggregation --dataset wdbc --sites 2", outcome: "Refused: secure aggregation needs at least 3 sites (the sum of two would give each the other's update)." },
  { flags: "simulate --secure-aggregation --round-deadline 10", outcome: "Refused: the round deadline must be at least three times --phase-seconds (default 5)." },
  { flags: "simulate --secure-aggregation --dp-epsilon 8 --dp-level client", outcome: "Runs with FedAvg: each site adds its share σ·C/√m of the noise, so the sum carries σ·C; --secure-clip defaults to --dp-clip." },
  { flags: "simulate --secure-aggregation --dp-epsilon 8", outcome: "Runs with FedAvg: sample-level DP-SGD at every site, masked sums at the coordinator." },
  { flags: "simulate --mode async", outcome: "Runs with FedAvg in place of the default recipe's scaffold, whose control variates assume every update starts from the round's model; an explicit --strategy scaffold is refused." },
  { flags: "simulate --mode async --strategy fedavg --codec randk:0.1+int8", outcome: "Refused: an update trained in an earlier round draws that round's random-k coordinates." },
  { flags: "simulate --dp-epsilon 8 --dp-level client", outcome: "Runs with FedAvg in place of the default recipe's scaffold, whose control deltas would leave the site unnoised; an explicit --strategy scaffold is refused." },
  { flags: "simulate --regions \"us:1,4;eu:2,3\"", outcome: "Runs with FedAvg in place of the default recipe's scaffold: the relays send their region's mean update without control deltas. An explicit --strategy scaffold is refused." },
  { flags: "simulate --regions \"us:1,4;eu:2,3\" --strategy median", outcome: "Runs: each region's coordinator runs FedAvg, the global coordinator the given strategy over the regional means." },
  { flags: "simulate --regions \"us:1,4;eu:2,3\" --codec int8", outcome: "Refused: a region's sites send float32 updates (the relay would compress their mean a second time)." },
  { flags: "simulate --regions \"us:1,4;eu:2,3\" --scoring", outcome: "Refused: a region's coordinator sends the plain mean of its sites' updates. The same for --mode async and --dp-level client." },
  { flags: "simulate --dataset wdbc --sites 6 --regions \"eu:1-3;us:4-6\" --secure-aggregation", outcome: "Runs with FedAvg: secure aggregation inside each region (each needs at least 3 sites); the global coordinator sums the regional means in the clear." },
  { flags: "simulate --strategy clip:2,scaffold", outcome: "Refused: scaffold keeps its control the plain mean of every site's, so it cannot follow an update transform." },
  { flags: "simulate --prox-mu 5", outcome: "Refused when --prox-mu × the learning rate (--lr, 0.3 in the default recipe) is 1 or more; below that it composes with any strategy, scaffold included." },
  { flags: "simulate --codec randk:0.1+int8 --strategy median", outcome: "Runs, but a coordinate-wise median over sparse, rescaled updates is not a robust estimate: random-k is meant for mean-based strategies." },
  { flags: "simulate --scoring --strategy fedavg", outcome: "Runs; the aggregate job decodes every update into memory instead of streaming the mean, since scoring compares the updates with each other." },
  { flags: "simulate --downlink-codec randk:0.1+int8", outcome: "Refused: random-k's rescaled deltas overshoot the model. A randk --codec sends the down-link as int8." },
  { flags: "simulate --dataset heart-disease --stats-epsilon 1", outcome: "Refused: noisy statistics need a range for every numeric feature and levels for every categorical one, which FHIR data models (--fhir) declare and the shipped CSV datasets do not." },
  { flags: "simulate --personalization fedrep --dp-epsilon 8", outcome: "Refused: fedrep's head, fitted on the site's rows without noise, shapes every row's gradient of the body, which DP-SGD's per-row bound would not cover. With --dp-level client it runs (the whole update is clipped and noised)." },
  { flags: "simulate --personalization ditto:5", outcome: "Refused when Ditto's λ × the learning rate (0.3 in the default recipe) is 1 or more: the pull would overshoot the global model at every step." },
  { flags: "simulate --local-epochs 2 --local-steps 40", outcome: "Runs 40 local steps a round: steps, when given, override epochs." },
  { flags: "simulate --dataset wdbc --data my.csv", outcome: "Refused: give exactly one of --dataset, --data or --fhir." },
  { flags: "simulate --data my.csv", outcome: "Refused: --data needs --label COLUMN." },
  { flags: "simulate --malicious 0.2", outcome: "Refused: --malicious needs --attack SPEC." },
  { flags: "simulate --validation 0.15", outcome: "Refused: --validation needs --scoring." },
  { flags: "simulate --dropout 0.3", outcome: "Refused: --dropout and --secure-clip need --secure-aggregation." },
  { flags: "simulate --buffer 3", outcome: "Refused: --buffer and --max-staleness need --mode async." },
  { flags: "simulate --dp-level client", outcome: "Refused: --dp-delta, --dp-level and --dp-clip need --dp-epsilon E." },
  { flags: "coordinator --federation federation.json", outcome: "Refused when the file's federation cannot run, with the same reasons as above; --rounds, --sites and --secure-aggregation go with --dataset or --cdm only, since a federation file sets its own." },
  { flags: "coordinator --s3-endpoint URL", outcome: "Refused: --s3-endpoint, --bucket and --queue-url go together; --region goes with --s3-endpoint." },
  { flags: "coordinator", outcome: "Refused on the embedded store, which starts empty: give --federation, --dataset or --cdm (at most one)." },
  { flags: "site --data rows.csv --dataset-site heart-disease:va", outcome: "Refused: give exactly one of --data, --fhir or --dataset-site." },
  { flags: "site --fhir DIR --test rows.csv", outcome: "Refused: --fhir holds out --test-fraction of its patients. --cdm goes with --fhir only; --test and --test-fraction exclude each other; --dataset-site brings its own test split." },
];
