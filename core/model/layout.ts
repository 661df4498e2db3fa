import { z } from "zod";
import type { LabelDef } from "../schemas/feature-spec.ts";
import type { ModelSpec } from "./model-spec.ts";

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
 * `outputs` is the output layer's width (`outputCount`): 1 logit, or K for a K-class model.
 */
export function modelLayout(spec: ModelSpec, inputDim: number, outputs = 1): Layout {
  const widths = spec.kind === "mlp" ? [inputDim, ...spec.hidden] : [inputDim];
  const body: [string, number[]][] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    body.push([`dense${i}/kernel`, [widths[i] ?? 0, widths[i + 1] ?? 0]], [`dense${i}/bias`, [widths[i + 1] ?? 0]]);
  }
  const last = widths[widths.length - 1] ?? inputDim;
  body.push(["out/kernel", [last, outputs]], ["out/bias", [outputs]]);
  const head = segments([["head/kernel", [last, outputs]], ["head/bias", [outputs]]], "head");
  const b = segments(body, "body");
  const size = (s: Segment[]) => s.reduce((n, x) => n + x.size, 0);
  return { inputDim, body: b, head, bodySize: size(b), headSize: size(head) };
}
