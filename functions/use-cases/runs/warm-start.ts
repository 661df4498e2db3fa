/**
 * @module
 * A run's first model: the body of the champion the run started from (its parent), when the
 * parent has the same model and the same inputs after this run's preprocessing is fitted on the
 * current statistics, with its first layer rewritten for the refitted standardisation
 * (`rescaleInputs`); fresh weights otherwise (the first run, no champion, a changed feature set
 * or model). The choice and its reason are written once per run (`warm-start.json`), so a retried
 * transition makes the same model 0.
 */
import { decodeUpdate, sha256Hex } from "../../../core/codec/index.ts";
import { initBody } from "../../../core/model/init-params.ts";
import type { Layout } from "../../../core/model/layout.ts";
import { canonicalJson, ModelCard } from "../../../core/registry/index.ts";
import { RunRecord, WarmStart } from "../../../core/schemas/consortium.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import { rescaleInputs } from "../../../core/model/rescale-inputs.ts";
import { seededRandom } from "../../../core/random.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson, writeJson } from "../../repo.ts";
import { consortiumDeps } from "./run-scope.ts";

/** Model 0 of this run, and how it was made. */
export async function firstBody(deps: CoordinatorDeps, config: FederationConfig, layout: Layout, prep: Preprocessing): Promise<{ body: Float32Array; warmStart: WarmStart }> {
  const fresh = () => initBody(layout, seededRandom(config.seed));
  const chosen = (await readJson(deps.store, keys.warmStart, WarmStart)) ?? (await choose(deps, config, layout, prep));
  await writeJson(deps.store, keys.warmStart, chosen, { ifAbsent: true });
  const kept = await mustReadJson(deps.store, keys.warmStart, WarmStart, "CORRUPT_STATE", "warm start");
  if (kept.from === null) return { body: fresh(), warmStart: kept };
  const parent = await parentBody(deps, kept.from, layout);
  if (typeof parent === "string") throw new Error(`run's warm start from version ${kept.from} cannot be read: ${parent}`);
  // The parent learned on inputs standardised by its own statistics: its first layer is rewritten for the refitted ones.
  const parentPrep = await mustReadJson(consortiumDeps(deps).store, keys.registryPreprocessing(kept.from), Preprocessing, "CORRUPT_STATE", `version ${kept.from}'s preprocessing`);
  return { body: rescaleInputs(layout, parent, parentPrep, prep), warmStart: kept };
}

async function choose(deps: CoordinatorDeps, config: FederationConfig, layout: Layout, prep: Preprocessing): Promise<WarmStart> {
  const seq = deps.run?.seq ?? 0;
  if (seq === 0) return { from: null, reason: "fresh weights: a federation from before runs" };
  const root = consortiumDeps(deps);
  const record = await mustReadJson(root.store, keys.run(seq), RunRecord, "CORRUPT_STATE", `run ${seq}`);
  if (record.parent === null) return { from: null, reason: seq === 1 ? "fresh weights: the consortium's first run" : "fresh weights: no champion when the run started" };
  const v = record.parent;
  const card = await readJson(root.store, keys.registryCard(v), ModelCard).catch(() => null);
  if (card === null) return { from: null, reason: `fresh weights: version ${v}'s card does not read` };
  if (canonicalJson(card.model) !== canonicalJson(config.model)) return { from: null, reason: `fresh weights: the model changed since version ${v}` };
  if (card.features.join("\n") !== prep.inputs.join("\n")) {
    const gone = card.features.filter((f) => !prep.inputs.includes(f));
    const added = prep.inputs.filter((f) => !card.features.includes(f));
    return { from: null, reason: `fresh weights: the inputs changed since version ${v}${gone.length ? ` (gone: ${gone.join(", ")})` : ""}${added.length ? ` (new: ${added.join(", ")})` : ""}` };
  }
  // Refitted standardisation is folded into a dense first layer; a convolution shares its weights across pixels standardised apart.
  if (layout.image) return { from: null, reason: `fresh weights: version ${v}'s first layer is a convolution, which cannot be rewritten for the refitted preprocessing` };
  const body = await parentBody(deps, v, layout, card.artifacts?.weightsSha256);
  if (typeof body === "string") return { from: null, reason: `fresh weights: version ${v}'s weights ${body}` };
  return { from: v, reason: `warm start from version ${v}, the champion when the run started; preprocessing refitted on the current statistics, its first layer rewritten to match` };
}

/** The registered body of version `v`, or why it cannot be used. */
async function parentBody(deps: CoordinatorDeps, v: number, layout: Layout, sha256?: string): Promise<Float32Array | string> {
  const bytes = await consortiumDeps(deps).store.get(keys.registryWeights(v));
  if (bytes === null) return "are missing";
  if (sha256 !== undefined && sha256Hex(bytes) !== sha256) return "do not match the card's digest";
  try {
    const values = decodeUpdate(bytes, { length: layout.bodySize }).values;
    return values.length === layout.bodySize ? values : `hold ${values.length} values, not ${layout.bodySize}`;
  } catch (err) {
    return `do not decode (${(err as Error).message})`;
  }
}
