import { z } from "zod";

/** Model families the runner can build; every one ends in a single logit (binary outcome). */
export const ModelSpec = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("logreg") }),
  z.object({ kind: z.literal("mlp"), hidden: z.array(z.number().int().positive().max(4096)).min(1).max(8) }),
]);
export type ModelSpec = z.infer<typeof ModelSpec>;

/** `logreg`, `mlp:32` or `mlp:64,32` on the command line. */
export function parseModelSpec(text: string): ModelSpec {
  if (text === "logreg") return { kind: "logreg" };
  const m = /^mlp:(\d+(?:,\d+)*)$/.exec(text);
  if (m?.[1]) return ModelSpec.parse({ kind: "mlp", hidden: m[1].split(",").map(Number) });
  throw new Error(`unknown model "${text}" (expected logreg or mlp:H[,H...])`);
}
