import { z } from "zod";
import type { LabelDef } from "../schemas/feature-spec.ts";
import { ConfigError } from "../errors.ts";
import { modelSpecText, type ModelSpec } from "./model-spec.ts";

/**
 * A flat parameter vector's named layout. `body` segments are shared by the consortium and are
 * all a site ever uploads (as a delta); `head` segments are the site's personal head, a residual
 * on the output layer that is fitted locally and never leaves the site.
 */
export const Segment = z.object({
  name: z.string(),
  shape: z.array(z.number().int().positive()),
  role: z.enum(["body", "head"]),
  offset: z.number().int().nonnegative(),
  size: z.number().int().positive(),
});
export type Segment = z.infer<typeof Segment>;

export const Layout = z.object({
  inputDim: z.number().int().positive(),
  /** A convolutional body's input image (`cnn` models): each row's inputs are its pixels, row-major, channels last. */
  image: z.object({ height: z.int().positive(), width: z.int().positive(), channels: z.int().positive() }).optional(),
  body: z.array(Segment),
  head: z.array(Segment),
  bodySize: z.number().int().positive(),
  headSize: z.number().int().positive(),
});
export type Layout = z.infer<typeof Layout>;

function segments(defs: [string, number[]][], role: "body" | "head"): Segment[] {
  let offset = 0;
  return defs.map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const s = { name, shape, role, offset, size };
    offset += size;
    return s;
  });
}

/** The output layer's width for a label: one logit for a binary outcome, one per class for K classes (softmax). */
export const outputCount = (label: LabelDef): number => label.classes?.length ?? 1;

/** A layout's output width: 1 (a binary model's logit) or K (a K-class model's logits). */
export const outputsOf = (layout: Layout): number => layout.head[0]?.shape[1] ?? 1;

/**
 * Offsets count from the start of each part: body vectors and head vectors are stored apart.
 * `outputs` is the output layer's width (`outputCount`): 1 logit, or K for a K-class model. A
 * `cnn` body's convolution kernels are `[3, 3, in, filters]` (`conv{i}/kernel`), each block
 * halving the image (2×2 max pooling, rounding down) before the dense layers.
 * @throws ConfigError when the model's input width (a `cnn`'s image, or a model.json's `inputs`) is
 * not `inputDim`, its declared `outputs` are not `outputs`, or pooling leaves no pixel.
 */
export function modelLayout(spec: ModelSpec, inputDim: number, outputs = 1): Layout {
  if (spec.kind !== "cnn" && spec.inputs !== undefined && spec.inputs !== inputDim) {
    throw new ConfigError(`the model takes ${spec.inputs} inputs, the features make ${inputDim}`);
  }
  if (spec.outputs !== undefined && spec.outputs !== outputs) {
    throw new ConfigError(`the model has ${spec.outputs} output${spec.outputs === 1 ? "" : "s"}, the label needs ${outputs} (${outputs === 1 ? "one logit for a binary outcome" : `one per class of ${outputs}`})`);
  }
  const body: [string, number[]][] = [];
  let widths: number[];
  let image: Layout["image"];
  if (spec.kind === "cnn") {
    const [height, width, channels] = spec.image;
    if (height * width * channels !== inputDim) {
      throw new ConfigError(`the model ${modelSpecText(spec)} takes ${height}×${width}×${channels} = ${height * width * channels} inputs, the features make ${inputDim}`);
    }
    image = { height, width, channels };
    let [h, w, c] = [height, width, channels];
    spec.conv.forEach((filters, i) => {
      body.push([`conv${i}/kernel`, [3, 3, c, filters]], [`conv${i}/bias`, [filters]]);
      [h, w, c] = [Math.floor(h / 2), Math.floor(w / 2), filters];
      if (h < 1 || w < 1) throw new ConfigError(`the model ${modelSpecText(spec)} pools a ${height}×${width} image ${i + 1} times: nothing is left of it`);
    });
    widths = [h * w * c, ...spec.dense];
  } else {
    widths = spec.kind === "mlp" ? [inputDim, ...spec.hidden] : [inputDim];
  }
  for (let i = 0; i + 1 < widths.length; i++) {
    body.push([`dense${i}/kernel`, [widths[i] ?? 0, widths[i + 1] ?? 0]], [`dense${i}/bias`, [widths[i + 1] ?? 0]]);
  }
  const last = widths[widths.length - 1] ?? inputDim;
  body.push(["out/kernel", [last, outputs]], ["out/bias", [outputs]]);
  const head = segments([["head/kernel", [last, outputs]], ["head/bias", [outputs]]], "head");
  const b = segments(body, "body");
  const size = (s: Segment[]) => s.reduce((n, x) => n + x.size, 0);
  return { inputDim, ...(image && { image }), body: b, head, bodySize: size(b), headSize: size(head) };
}

/** Why a model cannot be laid out whatever the features (a `cnn` pooled down to nothing), or null. */
export function modelSpecProblem(spec: ModelSpec): string | null {
  if (spec.kind !== "cnn") return null;
  const [h, w, c] = spec.image;
  try {
    modelLayout(spec, h * w * c, spec.outputs ?? 1);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
