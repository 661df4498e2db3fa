import { CodecName, decodeUpdate, encodeUpdate, sha256Hex } from "../core/codec/index.ts";
import { ConsiliumError } from "../core/errors.ts";
import { countPredictions } from "../core/metrics/index.ts";
import { seededRandom } from "../core/model/init-params.ts";
import type { Task } from "../core/schemas/task.ts";
import { localRound, type Controls } from "./local-round.ts";
import { scoreRows } from "./score-rows.ts";
import type { SiteSession } from "./site-session.ts";
import { loadControl, saveControl } from "./site-state.ts";
import { roundOptions } from "./train-rounds.ts";

type TrainTask = Extract<Task, { kind: "train" }>;

async function controlsFor(s: SiteSession, task: TrainTask, length: number): Promise<Controls | null> {
  if (!task.control) return null;
  const server = decodeUpdate(await s.client.download(task.control), { length, codec: "float32" }).values;
  const saved = s.siteControl?.length === length ? s.siteControl : s.stateDir ? await loadControl(s.stateDir, length) : null;
  return { server, site: saved ?? new Float32Array(length) };
}

/**
 * One round at the site: download the base model, measure it on the held-out rows (counts only),
 * train, and send the encoded delta through the presigned URL, then its manifest.
 */
export async function trainStep(s: SiteSession, task: TrainTask): Promise<{ loss: number; bytesUp: number }> {
  const before = s.client.traffic.down;
  const base = decodeUpdate(await s.client.download(task.model), { length: task.layout.bodySize, codec: "float32" }).values;
  const { train, test } = s.prepared(task.preprocessing);
  const baseMetrics = countPredictions(scoreRows(task.layout, base, null, test), test.y);
  const opts = roundOptions(task.training, task.round, task.rounds, seededRandom((task.seed ^ s.siteSeed) >>> 0));
  const result = localRound(task.layout, base, train, opts, await controlsFor(s, task, base.length));
  if (result.siteControl) {
    s.siteControl = result.siteControl;
    if (s.stateDir) await saveControl(s.stateDir, result.siteControl);
  }
  const bytes = encodeUpdate(result.update, CodecName.parse(task.codec));
  if (bytes.length !== task.upload.byteLength) throw new ConsiliumError("SIZE_MISMATCH", `encoded update is ${bytes.length} bytes, coordinator expects ${task.upload.byteLength}`, 400);
  await s.client.upload(task.upload.url, bytes);
  await s.client.postUpdate({
    round: task.round,
    samples: Math.max(1, train.rows),
    codec: task.codec,
    byteLength: bytes.length,
    sha256: sha256Hex(bytes),
    baseMetrics,
    trainLoss: result.loss,
    bytesDown: s.client.traffic.down - before,
  });
  return { loss: result.loss, bytesUp: bytes.length };
}
