import { describe, expect, it } from "vitest";
import { Layout, modelLayout, type Segment } from "./layout.ts";

const brief = (segments: Segment[]) => segments.map((s) => [s.name, s.shape, s.offset, s.size]);

describe("modelLayout", () => {
  it("lays out logistic regression as one output layer, with a head of the same shape", () => {
    // Execute
    const layout = modelLayout({ kind: "logreg" }, 5);

    // Assert
    expect(brief(layout.body)).toEqual([
      ["out/kernel", [5, 1], 0, 5],
      ["out/bias", [1], 5, 1],
    ]);
    expect(brief(layout.head)).toEqual([
      ["head/kernel", [5, 1], 0, 5],
      ["head/bias", [1], 5, 1],
    ]);
    expect([layout.inputDim, layout.bodySize, layout.headSize]).toEqual([5, 6, 6]);
  });

  it("lays out an MLP's hidden layers then its output layer, offsets counting from the start of the body", () => {
    // Execute: 3·8 + 8 + 8·4 + 4 + 4·1 + 1 = 73
    const layout = modelLayout({ kind: "mlp", hidden: [8, 4] }, 3);

    // Assert
    expect(brief(layout.body)).toEqual([
      ["dense0/kernel", [3, 8], 0, 24],
      ["dense0/bias", [8], 24, 8],
      ["dense1/kernel", [8, 4], 32, 32],
      ["dense1/bias", [4], 64, 4],
      ["out/kernel", [4, 1], 68, 4],
      ["out/bias", [1], 72, 1],
    ]);
    expect(layout.bodySize).toBe(73);
  });

  it("gives an MLP a head that is a residual output layer on the last hidden width, stored apart from the body", () => {
    // Execute
    const layout = modelLayout({ kind: "mlp", hidden: [16, 6] }, 10);

    // Assert
    expect(brief(layout.head)).toEqual([
      ["head/kernel", [6, 1], 0, 6],
      ["head/bias", [1], 6, 1],
    ]);
    expect(layout.headSize).toBe(6 + 1);
    expect(layout.body.every((s) => s.role === "body")).toBe(true);
    expect(layout.head.every((s) => s.role === "head")).toBe(true);
    expect(layout.body.map((s) => s.name).filter((n) => n.startsWith("head"))).toEqual([]);
  });

  it.each([
    [{ kind: "logreg" as const }, 1],
    [{ kind: "mlp" as const, hidden: [1] }, 1],
    [{ kind: "mlp" as const, hidden: [32, 16, 8] }, 14],
  ])("tiles %j over %i inputs without gaps and passes the Layout schema", (spec, inputDim) => {
    // Execute
    const layout = modelLayout(spec, inputDim);

    // Assert
    for (const part of [layout.body, layout.head]) {
      part.forEach((s, i) => {
        expect(s.size).toBe(s.shape.reduce((a, b) => a * b, 1));
        expect(s.offset).toBe(i === 0 ? 0 : (part[i - 1]?.offset ?? 0) + (part[i - 1]?.size ?? 0));
      });
    }
    expect(layout.bodySize).toBe(layout.body.reduce((n, s) => n + s.size, 0));
    expect(Layout.parse(layout)).toEqual(layout);
  });
});
