import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { Preprocessing } from "../../core/schemas/preprocessing.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { selectBackend } from "./backend.ts";
import { exportPersonalModel } from "./export-model.ts";
import { scoreRows } from "./score-rows.ts";
import { savePersonalModel, type PersonalModel } from "../session/site-state.ts";
import { recordPersonalModel } from "../session/state-owner.ts";
import { trainBody, trainHead } from "../training/train.ts";

/** Reads an export folder the way tfjs-node's `file://` handler does: model.json, then its manifest's paths. */
function folderHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const parts = await Promise.all(manifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))));
        const bytes = Buffer.concat(parts);
        return [tf.io.getWeightSpecs(manifest), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
  };
}

async function predictExported(dir: string, x: Float32Array, rows: number, dim: number): Promise<Float32Array> {
  const model = await tfl.loadLayersModel(folderHandler(dir));
  try {
    const out = tf.tidy(() => (model.predict(tf.tensor2d(x, [rows, dim])) as tf.Tensor).reshape([-1]));
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  } finally {
    model.dispose();
  }
}

const [site] = syntheticSites({ sites: 1, trainRows: 200, testRows: 80, seed: 7 });
const data = site ?? { name: "", train: { columns: [], rows: [] }, test: { columns: [], rows: [] } };
const preprocessing = mergeSiteStats([computeSiteStats(data.train, syntheticSpec)], syntheticSpec);
const train = applyPreprocessing(data.train, preprocessing);
const test = applyPreprocessing(data.test, preprocessing);

/** A personal model as the runner saves it: a trained body, then a head fitted on top of it. */
function personalModel(modelText: string): PersonalModel {
  const spec = parseModelSpec(modelText);
  const layout = modelLayout(spec, preprocessing.inputs.length);
  const rng = seededRandom(11);
  const opts = { epochs: 15, batchSize: 16, learningRate: 0.1, l2: 0.001, rng };
  const body = trainBody(layout, initBody(layout, seededRandom(3)), train, opts).params;
  const head = trainHead(layout, body, new Float32Array(layout.headSize), train, { ...opts, l2: 0.001 }).params;
  return { meta: { modelVersion: 4, spec, layout, preprocessing, savedAt: "2025-01-01T00:00:00.000Z" }, body, head };
}

describe("exportPersonalModel", () => {
  let root: string;
  beforeAll(async () => {
    await selectBackend("cpu");
    root = await mkdtemp(join(tmpdir(), "consilium-export-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  for (const modelText of ["logreg", "mlp:8"]) {
    it(`writes a ${modelText} Layers model that scores like the runner's personalised model`, async () => {
      // Prepare
      const personal = personalModel(modelText);
      const stateDir = join(root, modelText, "state");
      const outDir = join(root, modelText, "export");
      await savePersonalModel(stateDir, personal);
      const { body, head, meta: { layout } } = personal;
      const expected = scoreRows(layout, body, head, test);
      const globalOnly = scoreRows(layout, body, null, test);

      // Execute
      const { files } = await exportPersonalModel(stateDir, outDir);
      const actual = await predictExported(outDir, test.x, test.rows, test.dim);

      // Assert
      expect(files).toEqual(["model.json", "weights.bin", "preprocessing.json"].map((f) => join(outDir, f)));
      expect(actual).toHaveLength(test.rows);
      for (let i = 0; i < test.rows; i++) expect(actual[i]).toBeCloseTo(expected[i] ?? NaN, 5);
      // The head must be in the file: without it the scores would differ by far more than the tolerance.
      expect(Math.max(...expected.map((p, i) => Math.abs(p - (globalOnly[i] ?? 0))))).toBeGreaterThan(1e-3);
    });
  }

  it("writes a K-class model with a softmax output that scores like the runner's", async () => {
    // Prepare: 3 outputs, weights drawn (the head not zero).
    const layout = modelLayout(parseModelSpec("mlp:5"), preprocessing.inputs.length, 3);
    const rng = seededRandom(9);
    const head = Float32Array.from({ length: layout.headSize }, () => rng() - 0.5);
    const personal: PersonalModel = { meta: { modelVersion: 2, spec: parseModelSpec("mlp:5"), layout, preprocessing, savedAt: "2025-01-01T00:00:00.000Z" }, body: initBody(layout, seededRandom(4)), head };
    const stateDir = join(root, "k-class", "state");
    const outDir = join(root, "k-class", "export");
    await savePersonalModel(stateDir, personal);

    // Execute
    await exportPersonalModel(stateDir, outDir);
    const actual = await predictExported(outDir, test.x, test.rows, test.dim);
    const topology = JSON.stringify((JSON.parse(await readFile(join(outDir, "model.json"), "utf8")) as { modelTopology: unknown }).modelTopology);

    // Assert
    const expected = scoreRows(layout, personal.body, head, test);
    expect(actual).toHaveLength(3 * test.rows);
    for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i] ?? NaN, 5);
    expect([...topology.matchAll(/"activation":"(\w+)"/g)].map((m) => m[1])).toEqual(["relu", "softmax"]);
  });

  it("writes standard model.json, float32 weights in layout order and the consortium's preprocessing", async () => {
    // Prepare
    const personal = personalModel("mlp:8");
    const stateDir = join(root, "files", "state");
    const outDir = join(root, "files", "export");
    await savePersonalModel(stateDir, personal);

    // Execute
    const written = await exportPersonalModel(stateDir, outDir, { exportedAt: new Date("2025-06-01T12:00:00.000Z") });
    const modelJson = JSON.parse(await readFile(join(outDir, "model.json"), "utf8")) as tf.io.ModelJSON;
    const weights = await readFile(join(outDir, "weights.bin"));
    const prep = Preprocessing.parse(JSON.parse(await readFile(join(outDir, "preprocessing.json"), "utf8")));

    // Assert
    expect(modelJson.format).toBe("layers-model");
    expect(modelJson.modelTopology).toMatchObject({ class_name: "Sequential" });
    expect(modelJson.weightsManifest).toEqual([{
      paths: ["weights.bin"],
      weights: personal.meta.layout.body.map((s) => ({ name: s.name, shape: s.shape, dtype: "float32" })),
    }]);
    // A state folder that does not say whose it is: no site, no federation.
    expect(modelJson.userDefinedMetadata).toEqual({ consilium: { modelVersion: 4, exportedAt: "2025-06-01T12:00:00.000Z", model: { kind: "mlp", hidden: [8] }, inputs: preprocessing.inputs } });
    expect([written.siteId, written.modelVersion, written.federation]).toEqual([null, 4, null]);
    expect(weights.byteLength).toBe(4 * personal.meta.layout.bodySize);
    // The hidden layer is the global body's, untouched by the head.
    const hidden = new Float32Array(Uint8Array.from(weights).buffer);
    const dense0 = personal.meta.layout.body.slice(0, 2).reduce((n, s) => n + s.size, 0);
    expect(Array.from(hidden.subarray(0, dense0))).toEqual(Array.from(personal.body.subarray(0, dense0)));
    expect(prep).toEqual(preprocessing);
  });

  it("names the site, and the federation only when it is recorded for the saved model's version", async () => {
    // Prepare
    const personal = personalModel("logreg");
    const stateDir = join(root, "named", "state");
    await savePersonalModel(stateDir, personal);
    const at = new Date("2025-06-01T12:00:00.000Z");
    const meta = async (out: string) => (JSON.parse(await readFile(join(out, "model.json"), "utf8")) as tf.io.ModelJSON).userDefinedMetadata?.consilium;

    // Execute
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-a", modelVersion: 4 });
    const recorded = await exportPersonalModel(stateDir, join(root, "named", "a"), { exportedAt: at });
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-b", modelVersion: 3 });
    const older = await exportPersonalModel(stateDir, join(root, "named", "b"), { exportedAt: at });
    const labelled = await exportPersonalModel(stateDir, join(root, "named", "c"), { siteId: "site-07", exportedAt: at });

    // Assert
    expect(await meta(join(root, "named", "a"))).toMatchObject({ siteId: "site-01", modelVersion: 4, federation: "fed-a", exportedAt: "2025-06-01T12:00:00.000Z" });
    expect(await meta(join(root, "named", "b"))).not.toHaveProperty("federation");
    expect([recorded.federation, older.federation, older.siteId, labelled.siteId]).toEqual(["fed-a", null, "site-01", "site-07"]);
  });

  it("reads a model a runner is saving meanwhile again rather than pairing a new body with an old personal.json", async () => {
    // Prepare: the runner has replaced the body, not yet the head and personal.json.
    const older = personalModel("logreg");
    const newer = { ...older, body: older.body.map((v) => v + 1), meta: { ...older.meta, modelVersion: 5 } };
    const [stateDir, newerDir, tornDir] = ["state", "newer", "torn"].map((d) => join(root, "saving", d)) as [string, string, string];
    for (const dir of [stateDir, tornDir]) await savePersonalModel(dir, older);
    await savePersonalModel(newerDir, newer);
    const copy = (name: string, to: string) => readFile(join(newerDir, name)).then((bytes) => writeFile(join(to, name), bytes));
    for (const dir of [stateDir, tornDir]) await copy("global-body.bin", dir);

    // Execute: the runner's last writes land while the export waits; in tornDir they never do.
    const exporting = exportPersonalModel(stateDir, join(root, "saving", "out"));
    setTimeout(() => void copy("personal-head.bin", stateDir).then(() => copy("personal.json", stateDir)), 100);
    const written = await exporting;
    await exportPersonalModel(newerDir, join(root, "saving", "expected"));
    const torn = await exportPersonalModel(tornDir, join(root, "saving", "torn-out")).then(() => null, (e: unknown) => e);

    // Assert
    expect(written.modelVersion).toBe(5);
    expect(await readFile(join(root, "saving", "out", "weights.bin"))).toEqual(await readFile(join(root, "saving", "expected", "weights.bin")));
    expect(torn).toMatchObject({ code: "CORRUPT_STATE" });
  });

  it("refuses a saved model whose layout does not take the preprocessing's inputs", async () => {
    // Prepare
    const personal = personalModel("logreg");
    const stateDir = join(root, "mismatch", "state");
    const narrower = { ...preprocessing, inputs: preprocessing.inputs.slice(1) };
    await savePersonalModel(stateDir, { ...personal, meta: { ...personal.meta, preprocessing: narrower } });

    // Execute
    const exported = exportPersonalModel(stateDir, join(root, "mismatch", "export"));

    // Assert
    await expect(exported).rejects.toThrow(
      `personal model: preprocessing makes ${preprocessing.inputs.length - 1} inputs, the layout takes ${preprocessing.inputs.length}`,
    );
    await expect(exported).rejects.toMatchObject({ code: "CORRUPT_STATE" });
  });
});
