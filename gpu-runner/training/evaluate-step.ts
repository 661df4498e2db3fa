import { decodeUpdate } from "../../core/codec/index.ts";
import { countPredictions } from "../../core/metrics/index.ts";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import type { SiteEvaluation, Task } from "../../core/schemas/task.ts";
import { fetchModel } from "../session/fetch-model.ts";
import { binaryCounts as binary, countRows, scoreRows } from "../model/score-rows.ts";
import type { SiteSession } from "../session/site-session.ts";
import { savePersonalModel } from "../session/site-state.ts";
import { choosePersonal, choosePersonalHead, dittoSplit, fineTune, type PersonalModelFit, type Personaliser, VALIDATION_SHARE, validationSplit } from "./choose-personal.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import type { PersonalChoice } from "../../core/schemas/task.ts";
import type { TrainOptions } from "./train.ts";
import { heldDitto, heldFedrepHead } from "./train-step.ts";
import { trainHead } from "./train.ts";
import { trainRounds } from "./train-rounds.ts";

type EvaluateTask = Extract<Task, { kind: "evaluate" }>;

/** Mixed into the seed of a fine-tune's fit on every training row, a stream of its own. */
const FINETUNE_SEED = 0xf1e7;

/** Mixed into the seed of fedrep's closing head fit, a stream of its own. */
const FEDREP_CLOSE_SEED = 0xfed4c1;

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
 * The site's personal model by the federation's method, and the choice between it and the global
 * model: the residual head (the default), a fine-tune of the last layers, Ditto's model trained
 * at every round, or fedrep's head trained at every round (the global model where the site kept
 * no Ditto model or fedrep head, e.g. a runner that joined for the evaluation only).
 */
async function personalModel(s: SiteSession, task: EvaluateTask, body: Float32Array, train: Dataset, opts: TrainOptions, choiceRng: () => number): Promise<{ model: PersonalModelFit; choice: PersonalChoice }> {
  const how = task.training.personalization ?? { method: "residual" as const };
  if (how.method === "residual") {
    const { head, choice } = choosePersonalHead(task.layout, body, train, opts, choiceRng);
    return { model: { body, head }, choice };
  }
  // The local-only baseline trains next from `opts.rng`: it is moved on as the residual head's fit on every row would move it (one shuffle of the rows per epoch), so that the baseline is the same run whatever the method.
  if (train.rows > 0) for (let i = 0; i < opts.epochs * (train.rows - 1); i++) opts.rng();
  if (how.method === "finetune") {
    const split = validationSplit(train, VALIDATION_SHARE, choiceRng);
    return choosePersonal(task.layout, body, train, fineTune(task.layout, body, opts, how.layers), split, seededRandom((task.seed ^ s.siteSeed ^ FINETUNE_SEED) >>> 0), choiceRng);
  }
  const federation = task.federation ?? null;
  const split = dittoSplit(train, s.siteSeed);
  if (how.method === "fedrep") {
    const head = await heldFedrepHead(s, federation, task.layout.headSize);
    if (!head) return { model: { body, head: null }, choice: { kind: "global", method: "fedrep", reason: "global: this site holds no fedrep head of the federation (it trained no round of it)", validationRows: split.validation.rows, loss: null } };
    // As every round starts: the kept head fitted again on the model in hand (here the final one, for headEpochs), on the fit share only.
    const rng = seededRandom((task.seed ^ s.siteSeed ^ FEDREP_CLOSE_SEED) >>> 0);
    const fedrep: Personaliser = { method: "fedrep", refit: false, fit: (fit) => ({ body, head: trainHead(task.layout, body, head, fit, { ...opts, rng, l2Bias: true }).params }) };
    return choosePersonal(task.layout, body, train, fedrep, split, opts.rng, choiceRng);
  }
  const kept = await heldDitto(s, federation, body.length);
  if (!kept) return { model: { body, head: null }, choice: { kind: "global", method: "ditto", reason: "global: this site holds no Ditto model of the federation (it trained no round of it)", validationRows: split.validation.rows, loss: null } };
  const ditto: Personaliser = { method: `ditto (λ ${how.lambda})`, refit: false, fit: () => ({ body: kept, head: null }) };
  return choosePersonal(task.layout, body, train, ditto, split, opts.rng, choiceRng);
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
  const { model: personal, choice } = await personalModel(s, task, body, train, headOpts, seededRandom((task.seed ^ s.siteSeed ^ CHOICE_SEED) >>> 0));
  const local = trainRounds(task.layout, initBody(task.layout, seededRandom(task.seed)), train, t, task.rounds, rng);
  const [global, personalized, localCounts] = [countRows(task.layout, body, null, test), countRows(task.layout, personal.body, personal.head, test), countRows(task.layout, local, null, test)];
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
    await savePersonalModel(s.stateDir, { meta, body: personal.body, head: personal.head ?? new Float32Array(task.layout.headSize) });
  }
  await s.client.postEvaluation(evaluation);
  return evaluation;
}
