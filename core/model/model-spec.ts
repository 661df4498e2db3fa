import { z } from "zod";
import { ConfigError } from "../errors.ts";

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
  if (m?.[1]) {
    const parsed = ModelSpec.safeParse({ kind: "mlp", hidden: m[1].split(",").map(Number) });
    if (parsed.success) return parsed.data;
    // One line a person can act on, not zod's JSON dump of the issues.
    const issue = parsed.error.issues[0];
    const at = (issue?.path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join("");
    throw new ConfigError(`invalid model "${text}": ${at}: ${issue?.message ?? "invalid"}`);
  }
  throw new ConfigError(`unknown model "${text}" (expected logreg or mlp:H[,H...])`);
}
