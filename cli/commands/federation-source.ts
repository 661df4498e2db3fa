/**
 * @module
 * Where `consilium coordinator` gets the federation it creates: a FederationConfig file, or a
 * shipped dataset's or a common data model's features with the default recipe and the flags'
 * rounds, sites and secure aggregation.
 */
import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { cdmToFeatureSpec } from "../../core/fhir/cdm.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { SecureAggregationPolicy } from "../../core/schemas/secure-aggregation.ts";
import { federationProblem } from "../../functions/use-cases/federation-problem.ts";
import { loadBuiltin } from "../../gpu-runner/data/datasets.ts";
import { readCdm } from "../../gpu-runner/data/fhir-sites.ts";
import { composeStrategy, federationsProblem } from "../compose.ts";
import { defaultRecipe, type Recipe } from "../recipes.ts";
import { UsageError } from "./flags.ts";

/** A FederationConfig file, parsed; its faults name the flag. */
export async function federationFromFile(file: string): Promise<FederationConfig> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(`--federation: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = FederationConfig.safeParse(value);
  if (parsed.success) {
    const problem = federationProblem(parsed.data);
    if (problem) throw new UsageError(`--federation: ${file}: ${problem}`);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  throw new UsageError(`--federation: ${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
}

/** What the flags set of a federation made from a recipe. */
export interface FederationFlags {
  readonly rounds?: number;
  readonly sites?: number;
  readonly secure?: boolean;
}

/**
 * A federation of `features` trained by `recipe`, with the flags' rounds, sites and secure
 * aggregation; the recipe's strategy gives way to FedAvg where it cannot run with them (`note`).
 */
export function federationOf(id: string, features: FeatureSpec, recipe: Recipe, o: FederationFlags): Composed {
  const build = (strategy: string) =>
    FederationConfig.parse({
      id,
      features,
      model: parseModelSpec(recipe.model),
      training: recipe.training,
      rounds: o.rounds ?? recipe.rounds,
      expectedSites: o.sites ?? 4,
      roundDeadlineSeconds: 600,
      strategy,
      codec: "float32",
      ...(o.secure && { secureAggregation: SecureAggregationPolicy.parse({}) }),
      seed: 1,
    } satisfies z.input<typeof FederationConfig>);
  const { strategy, note } = composeStrategy(recipe.strategy, false, (s) => federationsProblem([build(s)]));
  return { config: build(strategy), ...(note !== undefined && { note }) };
}

/** A federation made from flags, and what the command says about how it was made. */
export interface Composed {
  readonly config: FederationConfig;
  readonly note?: string;
}

/** The federation a shipped dataset's recipe describes; only its feature spec is taken from the data. */
export async function federationFromDataset(dataset: string, o: FederationFlags): Promise<Composed> {
  const { features } = await loadBuiltin(dataset, { sites: 1, split: "iid", testFraction: 0.3, seed: 1 });
  return federationOf(dataset, features, defaultRecipe, o);
}

/** The federation for FHIR sites that map onto the common data model in `file`, with the default recipe. */
export async function federationFromCdm(file: string, o: FederationFlags): Promise<Composed> {
  const cdm = await readCdm(file).catch((err: unknown) => {
    throw new UsageError(`--cdm: ${(err as Error).message}`);
  });
  return federationOf(slug(cdm.name ?? "fhir", "fhir"), cdmToFeatureSpec(cdm), defaultRecipe, o);
}

/** Free text (a data model's name, a file's) as a federation id. */
export function slug(text: string, fallback: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 63).replace(/-+$/, "") || fallback;
}

/** The federation the flags name: a FederationConfig file, a shipped dataset or a common data model (at most one); null for none. */
export async function federationFromSource(source: { readonly file?: string; readonly dataset?: string; readonly cdm?: string }, o: FederationFlags): Promise<Composed | null> {
  if (source.file !== undefined) return { config: await federationFromFile(source.file) };
  if (source.dataset !== undefined) return federationFromDataset(source.dataset, o);
  if (source.cdm !== undefined) return federationFromCdm(source.cdm, o);
  return null;
}
