import { describe, expect, it } from "vitest";
import { modelLayout } from "./layout.ts";
import { validationLoss } from "./validation-loss.ts";

const bce = (z: number, y: number) => -(y * Math.log(1 / (1 + Math.exp(-z))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-z))));

describe("validationLoss", () => {
  it("is the mean cross-entropy of a logistic regression", () => {
    // Prepare: logits 1·2 − 1·1 + 0.5 = 1.5 and 1·0 − 1·3 + 0.5 = −2.5.
    const layout = modelLayout({ kind: "logreg" }, 2);
    const body = Float32Array.of(1, -1, 0.5);
    const data = { x: Float32Array.of(2, 1, 0, 3), y: Uint8Array.of(1, 0), rows: 2, dim: 2 };

    // Execute
    const loss = validationLoss(layout, body, data);

    // Assert
    expect(loss).toBeCloseTo((bce(1.5, 1) + bce(-2.5, 0)) / 2, 10);
  });

  it("runs the hidden layers with ReLU", () => {
    // Prepare: one hidden unit per input, h = relu([x0 − 1, −x1]) → out = h0 + h1 (+0).
    const layout = modelLayout({ kind: "mlp", hidden: [2] }, 2);
    const body = Float32Array.of(1, 0, 0, -1, -1, 0, 1, 1, 0);
    const data = { x: Float32Array.of(3, 1, 0, -4), y: Uint8Array.of(0, 1), rows: 2, dim: 2 };

    // Execute
    const loss = validationLoss(layout, body, data);

    // Assert: row 1 → h = [2, 0], logit 2; row 2 → h = [0, 4], logit 4.
    expect(loss).toBeCloseTo((bce(2, 0) + bce(4, 1)) / 2, 10);
  });

  it("is the mean softmax cross-entropy of a K-class model", () => {
    // Prepare: 3 classes on 1 input; logits x·[1, 0, −1] + [0, 1, 0].
    const layout = modelLayout({ kind: "logreg" }, 1, 3);
    const body = Float32Array.of(1, 0, -1, 0, 1, 0);
    const data = { x: Float32Array.of(2, -1), y: Uint8Array.of(0, 2), rows: 2, dim: 1 };
    const ce = (z: number[], y: number) => Math.log(z.reduce((a, v) => a + Math.exp(v), 0)) - z[y]!;

    // Execute
    const loss = validationLoss(layout, body, data);

    // Assert: row 1 → [2, 1, −2]; row 2 → [−1, 1, 1].
    expect(loss).toBeCloseTo((ce([2, 1, -2], 0) + ce([-1, 1, 1], 2)) / 2, 10);
    expect(validationLoss(layout, Float32Array.of(1e6, 0, 0, 0, 0, 0), { x: Float32Array.of(1), y: Uint8Array.of(1), rows: 1, dim: 1 })).toBeCloseTo(1e6, 0);
  });

  it("stays finite for huge logits and is NaN without rows", () => {
    // Prepare
    const layout = modelLayout({ kind: "logreg" }, 1);

    // Execute / Assert
    expect(validationLoss(layout, Float32Array.of(1e6, 0), { x: Float32Array.of(1), y: Uint8Array.of(0), rows: 1, dim: 1 })).toBeCloseTo(1e6, 0);
    expect(validationLoss(layout, Float32Array.of(1, 0), { x: new Float32Array(0), y: new Uint8Array(0), rows: 0, dim: 1 })).toBeNaN();
  });
});
