import { decodeUpdate } from "../../core/codec/index.ts";
import { countPredictions } from "../../core/metrics/index.ts";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import type { SiteEvaluation, Task } from "../../core/schemas/task.ts";
import { fetchModel } from "../session/fetch-model.ts";
import { binaryCounts as binary, countRows, scoreRows } from "../model/score-rows.ts";
import type { SiteSession } from "../session/site-session.ts";
import { savePersonalModel } from "../session/site-state.ts";
import { choosePersonal } from "./choose-personal.ts";
import { trainRounds } from "./train-rounds.ts";

type EvaluateTask = Extract<Task, { kind: "evaluate" }>;

/** Mixed into the seed of the personal head's validation split, a stream of its own. */
const CHOICE_SEED = 0x5eedc401;

type ChampionTask = NonNullable<EvaluateTask["champion"]>;

/**
 * The consortium's champion scored on the same held-out rows, with its own preprocessing: the
 * gate's comparison. Downloaded whole and checked against its digest; the model the site holds for
 * the down-link is left as it is.
 */
async function championCounts(s: SiteSession, champion: ChampionTask): Promise<{ version: number; counts: NonNullable<SiteEvaluation["global"]> }> {
  const body = decodeUpdate(await s.client.download(champion.model), { length: champion.layout.bodySize, codec: "float32" }).values;
  const { test } = s.prepared(champion.preprocessing);
  return { version: champion.model.version, counts: countPredictions(scoreRows(champion.layout, body, null, test), test.y) };
}

/**
 * The closing step: fit the personal head on the final body (frozen), train the local-only
 * baseline with the federation's schedule, and report counts of all three on the held-out rows.
 * The personal model is kept in the state folder; it never leaves the site.
 */
export async function evaluateStep(s: SiteSession, task: EvaluateTask): Promise<SiteEvaluation> {
  const body = await fetchModel(s, task.model, task.layout.bodySize);
  const { train, test } = s.prepared(task.preprocessing);
  const t = task.training;
  const rng = seededRandom((task.seed ^ s.siteSeed) >>> 0);
  const headOpts = { epochs: t.headEpochs, batchSize: t.batchSize, learningRate: t.headLearningRate ?? t.learningRate, l2: t.headL2, rng };
  // The personal head only where it beats the global model on a validation share of the training rows; its own draws, so the local baseline's stay as they were.
  const { head, choice } = choosePersonal(task.layout, body, train, headOpts, seededRandom((task.seed ^ s.siteSeed ^ CHOICE_SEED) >>> 0));
  const local = trainRounds(task.layout, initBody(task.layout, seededRandom(task.seed)), train, t, task.rounds, rng);
  const [global, personalized, localCounts] = [countRows(task.layout, body, null, test), countRows(task.layout, body, head, test), countRows(task.layout, local, null, test)];
  const common = { modelVersion: task.model.version, trainRows: train.rows, testRows: test.rows, personalChoice: choice };
  // A K-class model reports its K-class counts only; the champion's and the training rows' counts are a binary model's.
  const evaluation: SiteEvaluation =
    global.kind === "classes" && personalized.kind === "classes" && localCounts.kind === "classes"
      ? { ...common, classes: { global: global.counts, personalized: personalized.counts, local: localCounts.counts } }
      : {
          ...common,
          global: binary(global),
          personalized: binary(personalized),
          local: binary(localCounts),
          ...(task.champion && { champion: await championCounts(s, task.champion) }),
          ...(task.trainCounts && { globalTrain: countPredictions(scoreRows(task.layout, body, null, train), train.y) }),
        };
  if (s.stateDir) {
    const meta = { modelVersion: task.model.version, spec: task.spec, layout: task.layout, preprocessing: task.preprocessing, savedAt: new Date().toISOString() };
    await savePersonalModel(s.stateDir, { meta, body, head });
  }
  await s.client.postEvaluation(evaluation);
  return evaluation;
}
