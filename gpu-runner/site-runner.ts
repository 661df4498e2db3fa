/**
 * @module
 * One hospital's runner: asks the coordinator what to do, does it on local data, and sends back
 * only statistics, body deltas and evaluation counts. Records never leave this process.
 */
import { createHash } from "node:crypto";
import { CodecName, decodeUpdate, encodeUpdate, sha256Hex } from "../core/codec/index.ts";
import { ConsiliumError } from "../core/errors.ts";
import { silentLogger, type Logger } from "../core/logger.ts";
import { countPredictions } from "../core/metrics/index.ts";
import { initBody, seededRandom } from "../core/model/init-params.ts";
import type { Layout } from "../core/model/layout.ts";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import type { Table } from "../core/preprocess/table.ts";
import { applyPreprocessing, type Dataset } from "../core/preprocess/transform.ts";
import type { Preprocessing } from "../core/schemas/preprocessing.ts";
import type { SiteEvaluation, Task } from "../core/schemas/task.ts";
import type { CoordinatorClient } from "./client.ts";
import { createVars, disposeVars, predict } from "./model.ts";
import { loadControl, saveControl, savePersonalModel } from "./site-state.ts";
import { localRound, type Controls } from "./local-round.ts";
import { trainHead } from "./train.ts";
import { roundOptions, trainRounds } from "./train-rounds.ts";

export type RunnerEvent =
  | { kind: "stats"; rows: number }
  | { kind: "trained"; round: number; rounds: number; loss: number; bytesUp: number }
  | { kind: "evaluated"; evaluation: SiteEvaluation }
  | { kind: "skipped"; round: number; code: string; message: string };

export interface SiteRunnerOptions {
  readonly siteId: string;
  readonly client: CoordinatorClient;
  readonly data: { readonly train: Table; readonly test: Table };
  /** Where the personal head and last global body are kept; nothing is written without it. */
  readonly stateDir?: string;
  readonly logger?: Logger;
  readonly onEvent?: (event: RunnerEvent) => void;
  readonly signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

export function scoreRows(layout: Layout, body: Float32Array, head: Float32Array | null, data: Dataset): Float32Array {
  const vars = createVars(layout, body, head, { body: false, head: false });
  try {
    return predict(data.x, data.rows, data.dim, vars);
  } finally {
    disposeVars(vars);
  }
}

/** Runs until the federation is done; returns this site's final evaluation. */
export async function runSite(options: SiteRunnerOptions): Promise<SiteEvaluation | null> {
  const { client, siteId, data, signal } = options;
  const logger = options.logger ?? silentLogger;
  const siteSeed = createHash("sha256").update(siteId).digest().readUInt32LE(0);
  let cache: { key: string; train: Dataset; test: Dataset } | null = null;
  const prepared = (prep: Preprocessing) => {
    const key = JSON.stringify(prep);
    if (cache?.key !== key) cache = { key, train: applyPreprocessing(data.train, prep), test: applyPreprocessing(data.test, prep) };
    return cache;
  };
  let evaluation: SiteEvaluation | null = null;
  let siteControl: Float32Array | null = null;
  while (!signal?.aborted) {
    const task: Task = await client.task();
    if (task.kind === "done") return evaluation;
    if (task.kind === "wait") {
      await sleep(task.retryAfterMs, signal);
      continue;
    }
    try {
      if (task.kind === "stats") {
        const stats = computeSiteStats(data.train, task.features);
        await client.postStats(stats);
        options.onEvent?.({ kind: "stats", rows: stats.rows });
      } else if (task.kind === "train") {
        const before = client.traffic.down;
        const base = decodeUpdate(await client.download(task.model), { length: task.layout.bodySize, codec: "float32" }).values;
        const { train, test } = prepared(task.preprocessing);
        const baseMetrics = countPredictions(scoreRows(task.layout, base, null, test), test.y);
        const rng = seededRandom((task.seed ^ siteSeed) >>> 0);
        const opts = roundOptions(task.training, task.round, task.rounds, rng);
        const server = task.control ? decodeUpdate(await client.download(task.control), { length: base.length, codec: "float32" }).values : null;
        let controls: Controls | null = null;
        if (server) {
          const site = siteControl?.length === base.length ? siteControl : ((options.stateDir ? await loadControl(options.stateDir, base.length) : null) ?? new Float32Array(base.length));
          controls = { server, site };
        }
        const result = localRound(task.layout, base, train, opts, controls);
        const update = result.update;
        if (result.siteControl) {
          siteControl = result.siteControl;
          if (options.stateDir) await saveControl(options.stateDir, siteControl);
        }
        const bytes = encodeUpdate(update, CodecName.parse(task.codec));
        if (bytes.length !== task.upload.byteLength) throw new ConsiliumError("SIZE_MISMATCH", `encoded update is ${bytes.length} bytes, coordinator expects ${task.upload.byteLength}`, 400);
        await client.upload(task.upload.url, bytes);
        await client.postUpdate({
          round: task.round,
          samples: Math.max(1, train.rows),
          codec: task.codec,
          byteLength: bytes.length,
          sha256: sha256Hex(bytes),
          baseMetrics,
          trainLoss: result.loss,
          bytesDown: client.traffic.down - before,
        });
        options.onEvent?.({ kind: "trained", round: task.round, rounds: task.rounds, loss: result.loss, bytesUp: bytes.length });
      } else {
        const body = decodeUpdate(await client.download(task.model), { length: task.layout.bodySize, codec: "float32" }).values;
        const { train, test } = prepared(task.preprocessing);
        const t = task.training;
        const rng = seededRandom((task.seed ^ siteSeed) >>> 0);
        const head = trainHead(task.layout, body, new Float32Array(task.layout.headSize), train, { epochs: t.headEpochs, batchSize: t.batchSize, learningRate: t.headLearningRate ?? t.learningRate, l2: t.headL2, rng }).params;
        const init = initBody(task.layout, seededRandom(task.seed));
        const local = trainRounds(task.layout, init, train, t, task.rounds, rng);
        evaluation = {
          modelVersion: task.model.version,
          trainRows: train.rows,
          testRows: test.rows,
          global: countPredictions(scoreRows(task.layout, body, null, test), test.y),
          personalized: countPredictions(scoreRows(task.layout, body, head, test), test.y),
          local: countPredictions(scoreRows(task.layout, local, null, test), test.y),
        };
        if (options.stateDir) {
          const meta = { modelVersion: task.model.version, spec: task.spec, layout: task.layout, preprocessing: task.preprocessing, savedAt: new Date().toISOString() };
          await savePersonalModel(options.stateDir, { meta, body, head });
        }
        await client.postEvaluation(evaluation);
        options.onEvent?.({ kind: "evaluated", evaluation });
      }
    } catch (err) {
      // The coordinator refused this step (round closed meanwhile, duplicate): ask again.
      if (err instanceof ConsiliumError && err.status === 409) {
        logger.warn("coordinator refused a step", { siteId, code: err.code, message: err.message });
        options.onEvent?.({ kind: "skipped", round: task.kind === "train" ? task.round : 0, code: err.code, message: err.message });
        continue;
      }
      throw err;
    }
  }
  return evaluation;
}
