import { beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { validationLoss } from "../../core/model/validation-loss.ts";
import { selectBackend } from "./backend.ts";
import { scoreRows } from "./score-rows.ts";

describe("the coordinator's typed-array network and the runner's TensorFlow.js network", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("give the same validation loss for an MLP", () => {
    // Prepare
    const rng = seededRandom(21);
    const layout = modelLayout({ kind: "mlp", hidden: [8, 4] }, 6);
    const body = initBody(layout, seededRandom(5)).map((x) => x + 0.2 * (rng() - 0.5));
    const rows = 50;
    const data = { x: Float32Array.from({ length: rows * 6 }, () => 2 * rng() - 1), y: Uint8Array.from({ length: rows }, () => (rng() < 0.4 ? 1 : 0)), rows, dim: 6 };

    // Execute
    const p = scoreRows(layout, body, null, data);
    const fromRunner = p.reduce((s, q, i) => s - (data.y[i] === 1 ? Math.log(q) : Math.log(1 - q)), 0) / rows;

    // Assert
    expect(validationLoss(layout, body, data)).toBeCloseTo(fromRunner, 5);
  });
});
