import { z } from "zod";
import { ConfigError } from "../errors.ts";

const Width = z.number().int().positive().max(4096);

/**
 * Model families the runner can build. Each ends in an output layer of one logit (a binary
 * outcome) or K (a K-class label), on which the personal head sits.
 * - `logreg`: the output layer alone.
 * - `mlp`: ReLU dense layers of the widths in `hidden`, then the output layer.
 * - `cnn`: for rows that are images of `image` = [height, width, channels] (the features in
 *   row-major order, channels last): per entry of `conv`, a 3×3 convolution of that many filters
 *   (same padding) with ReLU, then 2×2 max pooling; then ReLU dense layers of the widths in
 *   `dense`, then the output layer.
 * A model read from a Layers model.json (`layers-model.ts`) also keeps the file's widths: `inputs`
 * (a `cnn`'s image fixes them already) and `outputs`, which the features and the label must fit.
 */
const Inputs = z.int().positive().max(1_000_000).optional();
const Outputs = z.int().positive().max(100).optional();
export const ModelSpec = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("logreg"), inputs: Inputs, outputs: Outputs }),
  z.object({ kind: z.literal("mlp"), hidden: z.array(Width).min(1).max(8), inputs: Inputs, outputs: Outputs }),
  z.object({
    kind: z.literal("cnn"),
    image: z.tuple([z.int().min(2).max(1024), z.int().min(2).max(1024), z.int().min(1).max(16)]),
    conv: z.array(z.int().positive().max(512)).min(1).max(6),
    dense: z.array(Width).max(4),
    outputs: Outputs,
  }),
]);
export type ModelSpec = z.infer<typeof ModelSpec>;

const EXPECTED = "expected logreg, mlp:H[,H...] or cnn:HxWxC:F[,F...][:D[,D...]]";

/** One line a person can act on, not zod's JSON dump of the issues. */
function parsed(text: string, value: unknown): ModelSpec {
  const result = ModelSpec.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = (issue?.path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join("");
  throw new ConfigError(`invalid model "${text}": ${at}: ${issue?.message ?? "invalid"}`);
}

const list = (s: string) => s.split(",").map(Number);

/** `logreg`, `mlp:32`, `mlp:64,32` or `cnn:8x8x1:8,16:64` on the command line. */
export function parseModelSpec(text: string): ModelSpec {
  if (text === "logreg") return { kind: "logreg" };
  const m = /^mlp:(\d+(?:,\d+)*)$/.exec(text);
  if (m?.[1]) return parsed(text, { kind: "mlp", hidden: list(m[1]) });
  const c = /^cnn:(\d+)x(\d+)x(\d+):(\d+(?:,\d+)*)(?::(\d+(?:,\d+)*))?$/.exec(text);
  if (c) return parsed(text, { kind: "cnn", image: [Number(c[1]), Number(c[2]), Number(c[3])], conv: list(c[4]!), dense: c[5] ? list(c[5]) : [] });
  throw new ConfigError(`unknown model "${text}" (${EXPECTED})`);
}

/** The spec as `parseModelSpec` reads it. */
export function modelSpecText(spec: ModelSpec): string {
  if (spec.kind === "logreg") return "logreg";
  if (spec.kind === "mlp") return `mlp:${spec.hidden.join(",")}`;
  return `cnn:${spec.image.join("x")}:${spec.conv.join(",")}${spec.dense.length > 0 ? `:${spec.dense.join(",")}` : ""}`;
}

/** A model given as text (`parseModelSpec`) or as a spec already (a model.json read by `modelFromLayersJson`). */
export const specOf = (model: string | ModelSpec): ModelSpec => (typeof model === "string" ? parseModelSpec(model) : model);

/** How a model is named in reports: its text, with a model.json's declared widths. */
export function modelName(model: string | ModelSpec): string {
  if (typeof model === "string") return model;
  const widths = [model.kind !== "cnn" && model.inputs !== undefined ? `${model.inputs} inputs` : "", model.outputs !== undefined ? `${model.outputs} output${model.outputs === 1 ? "" : "s"}` : ""].filter(Boolean);
  return `${modelSpecText(model)}${widths.length > 0 ? ` (${widths.join(", ")})` : ""}`;
}
