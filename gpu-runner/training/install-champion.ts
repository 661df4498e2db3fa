/**
 * @module
 * A site pulls the consortium's champion: downloads it (checked against its digest), refits its
 * personal head on its current rows, keeps the personal model only when it is at least as good as
 * the global one on its own held-out rows (AUROC; the global model otherwise), and installs the
 * version (`installed-model.ts`): files first, the `current` pointer last. A pull that fails
 * leaves the installed model as it was.
 */
import { decodeUpdate } from "../../core/codec/index.ts";
import { aurocFromHistogram, countPredictions } from "../../core/metrics/index.ts";
import { seededRandom } from "../../core/random.ts";
import type { ChampionOffer } from "../../core/schemas/task.ts";
import { scoreRows } from "../model/score-rows.ts";
import { currentInstalled, installModel } from "../session/installed-model.ts";
import type { SiteSession } from "../session/site-session.ts";
import { trainHead } from "./train.ts";

type Offered = NonNullable<ChampionOffer["champion"]>;

/** What a pull did: nothing to pull, the champion installed already, or a version installed with its choice. */
export type PullOutcome =
  | { readonly kind: "none" }
  | { readonly kind: "unchanged"; readonly version: number }
  | { readonly kind: "installed"; readonly version: number; readonly choice: "personal" | "global"; readonly reason: string; readonly previous: number | null };

/** Pulls and installs the champion when it differs from the installed version. Needs a state folder. */
export async function pullChampion(s: SiteSession, stateDir: string): Promise<PullOutcome> {
  const { champion } = await s.client.champion();
  if (champion === null) return { kind: "none" };
  const version = champion.model.version;
  const current = await currentInstalled(stateDir);
  if (current?.version === version) return { kind: "unchanged", version };
  const installed = await installChampion(s, stateDir, champion);
  s.logger.info("champion installed", { siteId: s.siteId, version, previous: current?.version ?? null, choice: installed.choice, reason: installed.reason });
  return { kind: "installed", version, previous: current?.version ?? null, ...installed };
}

/** Refits the head on the champion's body and installs the better of personal and global on the site's held-out rows. */
export async function installChampion(s: SiteSession, stateDir: string, champion: Offered): Promise<{ choice: "personal" | "global"; reason: string }> {
  const { layout, training: t } = champion;
  const body = decodeUpdate(await s.client.download(champion.model), { length: layout.bodySize, codec: "float32" }).values;
  const { train, test } = s.prepared(champion.preprocessing);
  const rng = seededRandom((champion.model.version ^ s.siteSeed) >>> 0);
  const head = trainHead(layout, body, new Float32Array(layout.headSize), train, { epochs: t.headEpochs, batchSize: t.batchSize, learningRate: t.headLearningRate ?? t.learningRate, l2: t.headL2, rng }).params;
  const counts = (h: Float32Array | null) => countPredictions(scoreRows(layout, body, h, test), test.y);
  const [personal, global] = [counts(head), counts(null)];
  const [pa, ga] = [aurocFromHistogram(personal.pos, personal.neg), aurocFromHistogram(global.pos, global.neg)];
  const fmt = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));
  // Without both classes in the held-out rows the two cannot be told apart: the global model, which the consortium judged.
  const keepPersonal = pa !== null && ga !== null && pa >= ga;
  const reason = `${keepPersonal ? "personal" : "global"}: AUROC on ${test.rows} held-out rows, personal ${fmt(pa)}, global ${fmt(ga)}`;
  const meta = { modelVersion: champion.model.version, spec: champion.spec, layout, preprocessing: champion.preprocessing, savedAt: new Date().toISOString(), installed: { kind: keepPersonal ? ("personal" as const) : ("global" as const), reason, auroc: { personal: pa, global: ga, rows: test.rows } } };
  await installModel(stateDir, champion.model.version, { meta, body, head: keepPersonal ? head : new Float32Array(layout.headSize) });
  return { choice: meta.installed.kind, reason };
}
