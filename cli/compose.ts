/**
 * @module
 * How the CLI composes a federation from a recipe's defaults and the flags given, the same way in
 * every command: a default yields to what the flags ask for (the recipe's strategy becomes
 * FedAvg when it cannot run with them, and the command says so); what the flags themselves ask
 * for that cannot run together is refused before anything starts, with the coordinator's own
 * reason (`federationProblem`). docs/cli.md lists the combinations (`FLAG_COMBINATIONS`).
 */
import { ConsiliumError } from "../core/errors.ts";
import { FederationConfig } from "../core/schemas/federation.ts";
import { federationProblem } from "../functions/use-cases/federation-problem.ts";
import { UsageError } from "./commands/flags.ts";

/** The strategy a recipe's default gives way to. */
export const FALLBACK_STRATEGY = "fedavg";

/**
 * The recipe's `strategy`, or, when that is only a default (`explicit` false) that cannot run
 * with the flags (`problemOf` answers why) and FedAvg can, FedAvg with a note saying why.
 * Whatever still cannot run is a `UsageError` with the reason.
 */
export function composeStrategy(strategy: string, explicit: boolean, problemOf: (strategy: string) => string | null): { strategy: string; note?: string } {
  const problem = problemOf(strategy);
  if (problem === null) return { strategy };
  if (explicit || strategy === FALLBACK_STRATEGY) throw new UsageError(`these flags cannot run together: ${problem}`);
  // A default that gives way cannot be what is wrong: FedAvg's problem, if any, is the flags' own.
  const fallback = problemOf(FALLBACK_STRATEGY);
  if (fallback !== null) throw new UsageError(`these flags cannot run together: ${fallback}`);
  return { strategy: FALLBACK_STRATEGY, note: `strategy ${FALLBACK_STRATEGY} instead of the recipe's ${strategy}: ${problem}` };
}

/** Why the coordinator would refuse one of `configs` (its schema first, then `federationProblem`), or null. */
export function federationsProblem(configs: readonly unknown[]): string | null {
  for (const config of configs) {
    const parsed = FederationConfig.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return `${issue?.path.join(".") || "(federation)"}: ${issue?.message ?? "invalid"}`;
    }
    try {
      const problem = federationProblem(parsed.data);
      if (problem) return problem;
    } catch (err) {
      // A strategy spec that does not parse says so itself.
      if (err instanceof ConsiliumError && err.status < 500) return err.message;
      throw err;
    }
  }
  return null;
}
