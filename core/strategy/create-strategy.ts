import { ConfigError } from "../errors.ts";
import { centeredClip } from "./centered-clip.ts";
import { clipMedian } from "./clip-median.ts";
import { clip } from "./clip.ts";
import { fedAdagradStep } from "./fedadagrad.ts";
import { fedAdamStep } from "./fedadam.ts";
import { fedYogiStep } from "./fedyogi.ts";
import { geomed } from "./geomed.ts";
import { krum } from "./krum.ts";
import { mean } from "./mean.ts";
import { median } from "./median.ts";
import { pipeline } from "./pipeline.ts";
import { ROBUST } from "./robust.ts";
import { scaffoldStep } from "./scaffold.ts";
import { sgd } from "./sgd.ts";
import { splitSpec, type StageToken } from "./split-spec.ts";
import type { Aggregator, ServerStep, Stage, UpdateTransform } from "./stage.ts";
import type { Strategy } from "./strategy.ts";
import { trimmedMean } from "./trimmed-mean.ts";

interface Entry {
  readonly minArgs?: number;
  /** Arguments the stage may carry; more is a configuration error, not something to drop silently. */
  readonly maxArgs: number;
  readonly make?: (args: number[]) => Stage;
  /** A name for a list of stages, expanded where it stands. */
  readonly expands?: string;
  /** A server step defined on the plain mean (FedAvg, SCAFFOLD); `strict` also refuses transforms. */
  readonly meanOnly?: "loose" | "strict";
  /** The stage to build instead after the plain mean, so that each strategy has one spelling (`mean,sgd:LR` is `fedavg:LR`). */
  readonly onMean?: (args: number[]) => Stage;
}

// A Map, so that names such as "constructor" or "__proto__" are unknown rather than inherited.
const registry = new Map<string, Entry>([
  ["fedavg", { maxArgs: 1, meanOnly: "loose", make: ([lr]) => sgd(lr, "fedavg") }],
  ["fedadam", { maxArgs: 4, make: ([lr, beta1, beta2, tau]) => fedAdamStep({ lr, beta1, beta2, tau }) }],
  ["scaffold", { maxArgs: 1, meanOnly: "strict", make: ([lr]) => scaffoldStep(lr) }],
  ["fedyogi", { maxArgs: 4, make: ([lr, beta1, beta2, tau]) => fedYogiStep({ lr, beta1, beta2, tau }) }],
  ["fedadagrad", { maxArgs: 3, make: ([lr, beta1, tau]) => fedAdagradStep({ lr, beta1, tau }) }],
  ["sgd", { maxArgs: 1, make: ([lr]) => sgd(lr), onMean: ([lr]) => sgd(lr, "fedavg") }],
  ["mean", { maxArgs: 0, make: () => mean() }],
  ["median", { maxArgs: 0, make: () => median() }],
  ["trimmed-mean", { minArgs: 1, maxArgs: 1, make: ([beta]) => trimmedMean(beta as number) }],
  ["geomed", { maxArgs: 1, make: ([iterations]) => geomed(iterations) }],
  ["krum", { minArgs: 1, maxArgs: 2, make: ([f, m]) => krum(f as number, m) }],
  ["centered-clip", { minArgs: 1, maxArgs: 2, make: ([tau, iterations]) => centeredClip(tau as number, iterations) }],
  ["clip", { minArgs: 1, maxArgs: 1, make: ([bound]) => clip(bound as number) }],
  ["clip-median", { minArgs: 1, maxArgs: 1, make: ([factor]) => clipMedian(factor as number) }],
  ["robust", { maxArgs: 0, expands: ROBUST }],
]);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

interface Built {
  readonly token: StageToken;
  readonly entry: Entry;
  readonly args: number[];
  readonly stage: Stage;
}

function build(token: StageToken, spec: string): Built[] {
  const { name, text } = token;
  if (text === "") throw new ConfigError(`strategy "${spec}" has an empty stage`);
  const entry = registry.get(name);
  if (!entry) throw new ConfigError(`unknown strategy "${name}" (known: ${strategyNames().join(", ")})`);
  const args = token.args.map((a) => {
    const n = Number(a);
    if (a === "" || !Number.isFinite(n)) throw new ConfigError(`strategy "${name}" argument "${a}" is not a number`);
    return n;
  });
  if (args.length > entry.maxArgs) throw new ConfigError(`strategy "${name}" takes at most ${plural(entry.maxArgs, "argument")}, got ${args.length}`);
  if (args.length < (entry.minArgs ?? 0)) throw new ConfigError(`strategy "${name}" needs ${plural(entry.minArgs ?? 0, "argument")}, got ${args.length}`);
  if (entry.expands) return splitSpec(entry.expands).flatMap((t) => build(t, spec));
  return [{ token, entry, args, stage: (entry.make as (args: number[]) => Stage)(args) }];
}

/**
 * Builds a strategy from its spec, stages separated by commas, each `name[:arg[:arg…]]`:
 *
 *     spec       = [transform ","]… [aggregator ","] [server]      (at least one stage)
 *     transform  = clip:C | clip-median:K
 *     aggregator = mean | median | trimmed-mean:BETA | geomed[:ITERS] | krum:F[:M] | centered-clip:TAU[:ITERS]
 *     server     = sgd[:LR] | fedavg[:LR] | fedadam[:LR[:B1[:B2[:TAU]]]] | fedyogi[:LR[:B1[:B2[:TAU]]]]
 *                | fedadagrad[:LR[:B1[:TAU]]] | scaffold[:LR]
 *
 * The aggregator defaults to `mean`, the server step to applying the aggregate once. `fedavg` and
 * `scaffold` step by the plain mean only (SCAFFOLD also refuses transforms); `robust` stands for
 * the stages of `ROBUST`. A piece after a comma that starts like a number continues the previous
 * argument (`fedavg:1,5` is a decimal comma), so that it fails as a number rather than as a stage.
 * The strategy's `spec` is the canonical spelling, which rebuilds it.
 *
 * @example
 * createStrategy("clip:2,trimmed-mean:0.2,fedadam").spec; // "clip:2,trimmed-mean:0.2,fedadam:0.05"
 */
export function createStrategy(spec: string): Strategy {
  const built = splitSpec(spec).flatMap((t) => build(t, spec));
  const transforms: UpdateTransform[] = [];
  let aggregator: { readonly token: StageToken; readonly stage: Aggregator } | undefined;
  let server: (Built & { readonly stage: ServerStep }) | undefined;
  for (const b of built) {
    const { stage, token } = b;
    if (server) throw new ConfigError(`"${token.text}" follows the server step "${server.token.text}" in "${spec}"; the server step comes last`);
    if (stage.kind === "transform") {
      if (aggregator) throw new ConfigError(`update transform "${token.text}" must come before the aggregator "${aggregator.token.text}" in "${spec}"`);
      if (transforms.some((t) => t.name === stage.name)) throw new ConfigError(`strategy "${spec}" applies "${stage.name}" twice`);
      transforms.push(stage);
    } else if (stage.kind === "aggregator") {
      if (aggregator) throw new ConfigError(`strategy "${spec}" has two aggregators, "${aggregator.token.text}" and "${token.text}"`);
      aggregator = { token, stage };
    } else {
      server = { ...b, stage };
    }
  }
  const agg = aggregator?.stage ?? mean();
  const plainMean = agg.spec === "";
  if (server?.entry.meanOnly && !plainMean) {
    throw new ConfigError(`"${server.token.text}" steps by the plain mean of the deltas, so it cannot follow the aggregator "${aggregator?.token.text}"${server.entry.meanOnly === "loose" ? '; use "sgd" for a server learning rate after another aggregator' : ""}`);
  }
  if (server?.entry.meanOnly === "strict" && transforms.length > 0) {
    throw new ConfigError(`"${server.token.text}" keeps its control the plain mean of every site's, so it cannot follow the update transform "${transforms[0]?.spec}"`);
  }
  const onMean = plainMean ? server?.entry.onMean : undefined;
  const step = onMean && server ? (onMean(server.args) as ServerStep) : (server?.stage ?? sgd(1, plainMean ? "fedavg" : "sgd"));
  return pipeline({ transforms, aggregator: agg, server: step });
}

export const strategyNames = (): string[] => [...registry.keys()];
