import { describe, expect, it } from "vitest";
import { SiteEvaluation, StoredEvaluation, Task } from "./task.ts";
import { countMulticlass, MULTICLASS_BINS } from "../metrics/multiclass.ts";
import { counts, featureSpec, issuesOf, layout, modelRef, preprocessing, training } from "../../test/support/schemas.ts";

const train = () => ({
  kind: "train",
  round: 2,
  rounds: 20,
  deadline: 1_700_000_000_000,
  model: modelRef(),
  spec: { kind: "mlp", hidden: [4] },
  layout: layout(),
  preprocessing: preprocessing(),
  training: training(),
  codec: "int8",
  upload: { url: "https://store.example/rounds/2/a.bin", byteLength: 512 },
  seed: 11,
});

const evaluate = () => ({
  kind: "evaluate",
  model: modelRef(),
  spec: { kind: "logreg" },
  layout: layout(),
  preprocessing: preprocessing(),
  training: training(),
  rounds: 20,
  seed: 11,
});

describe("Task", () => {
  it.each([
    ["wait", { kind: "wait", retryAfterMs: 500, reason: "round 2 is aggregating" }],
    ["stats", { kind: "stats", features: featureSpec() }],
    ["train", train()],
    ["sparse train", { ...train(), codec: "topk:0.1+int8", federation: "heart-2025" }],
    ["train by multipart upload", { ...train(), upload: { kind: "multipart", uploadId: "u-1", partBytes: 256, parts: [{ partNumber: 1, url: "https://store.example/a?partNumber=1" }, { partNumber: 2, url: "https://store.example/a?partNumber=2" }], byteLength: 512 } }],
    ["evaluate", evaluate()],
    ["done", { kind: "done", modelVersion: 20 }],
  ])("parses a %s task", (_, task) => {
    // Execute and Assert
    expect(Task.parse(task)).toMatchObject(task);
  });

  it.each([
    ["an unknown kind", { kind: "sleep" }, [["kind", "Invalid discriminator value. Expected 'wait' | 'stats' | 'train' | 'evaluate' | 'done' | 'identity' | 'secure-advertise' | 'secure-share' | 'secure-unmask'"]]],
    ["a wait of 0 ms", { kind: "wait", retryAfterMs: 0, reason: "x" }, [["retryAfterMs", "Too small: expected number to be >0"]]],
    ["a stats task without features", { kind: "stats" }, [["features", "Invalid input: expected object, received undefined"]]],
    ["a train task with an unknown codec spec", { ...train(), codec: "topk:0.1+int2" }, [["codec", 'codec "topk:0.1+int2": topk takes int8 or float16 values, not "int2"']]],
    ["a train task without an upload URL", { ...train(), upload: { url: "", byteLength: 512 } }, [["upload.url", "Too small: expected string to have >=1 characters"]]],
    ["a train task with a model checksum of the wrong length", { ...train(), model: { ...modelRef(), sha256: "abc" } }, [["model.sha256", "Invalid string: must match pattern /^[0-9a-f]{64}$/"]]],
    ["an evaluate task with zero rounds", { ...evaluate(), rounds: 0 }, [["rounds", "Too small: expected number to be >0"]]],
    ["a done task with a negative version", { kind: "done", modelVersion: -1 }, [["modelVersion", "Too small: expected number to be >=0"]]],
  ])("rejects %s", (_, task, expected) => {
    // Execute and Assert
    expect(issuesOf(Task, task)).toEqual(expected);
  });
});

describe("SiteEvaluation", () => {
  it("parses a site's closing counts", () => {
    // Prepare
    const evaluation = { modelVersion: 20, trainRows: 100, testRows: 3, global: counts(), personalized: counts(), local: counts() };

    // Execute and Assert
    expect(SiteEvaluation.parse(evaluation)).toEqual(evaluation);
  });

  it("rejects counts whose n disagrees with the confusion counts", () => {
    // Prepare
    const evaluation = { modelVersion: 20, trainRows: 100, testRows: 3, global: counts(), personalized: { ...counts(), n: 4 }, local: counts() };

    // Execute and Assert
    expect(issuesOf(SiteEvaluation, evaluation)).toEqual([["personalized.n", "n = 4 but tp + fp + tn + fn = 3"]]);
  });

  it("rejects counts in another number of bins, which could not be pooled with the other sites'", () => {
    // Prepare
    const evaluation = { modelVersion: 20, trainRows: 100, testRows: 3, global: counts(), personalized: counts(), local: counts(4) };

    // Execute and Assert
    expect(issuesOf(SiteEvaluation, evaluation)).toEqual([["local.pos", "histogram must have 1000 bins, got 4"]]);
  });

  it("takes a K-class model's counts in place of the binary ones, never both, and needs one kind", () => {
    // Prepare
    const classes = countMulticlass(Float32Array.from([0.8, 0.1, 0.1, 0.2, 0.7, 0.1]), Uint8Array.from([0, 1]), 3, MULTICLASS_BINS);
    const base = { modelVersion: 20, trainRows: 100, testRows: 2 };
    const kClass = { ...base, classes: { global: classes, personalized: classes, local: classes } };

    // Execute and Assert
    expect(SiteEvaluation.parse(kClass)).toEqual(kClass);
    expect(issuesOf(SiteEvaluation, { ...kClass, global: counts() })).toEqual([["classes", "a K-class model's evaluation has classes only (no binary global, personalized, local, champion or globalTrain counts)"]]);
    expect(issuesOf(SiteEvaluation, base)).toEqual([["global", "a binary model's evaluation needs global, personalized and local counts"]]);
    expect(issuesOf(SiteEvaluation, { ...base, classes: { global: countMulticlass(Float32Array.from([1, 0, 0]), Uint8Array.from([0]), 3, 10), personalized: classes, local: classes } })).toEqual([["classes.global.pos", `histograms must have ${MULTICLASS_BINS} bins, got 10`]]);
  });

  it("still reads back a stored evaluation whose counts have another number of bins", () => {
    // Prepare
    const stored = { modelVersion: 20, trainRows: 100, testRows: 3, global: counts(4), personalized: counts(4), local: counts(4), siteId: "st-marys" };

    // Execute and Assert
    expect(StoredEvaluation.parse(stored)).toEqual(stored);
  });
});
