import { z } from "zod";
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

/** Offsets count from the start of each part: body vectors and head vectors are stored apart. */
export function modelLayout(spec: ModelSpec, inputDim: number): Layout {
  const widths = spec.kind === "mlp" ? [inputDim, ...spec.hidden] : [inputDim];
  const body: [string, number[]][] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    body.push([`dense${i}/kernel`, [widths[i] ?? 0, widths[i + 1] ?? 0]], [`dense${i}/bias`, [widths[i + 1] ?? 0]]);
  }
  const last = widths[widths.length - 1] ?? inputDim;
  body.push(["out/kernel", [last, 1]], ["out/bias", [1]]);
  const head = segments([["head/kernel", [last, 1]], ["head/bias", [1]]], "head");
  const b = segments(body, "body");
  const size = (s: Segment[]) => s.reduce((n, x) => n + x.size, 0);
  return { inputDim, body: b, head, bodySize: size(b), headSize: size(head) };
}
