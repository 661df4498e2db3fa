/**
 * @module
 * The coordinator as the operator commands reach it: an `AdminClient` whose network failures say
 * which coordinator could not be reached and why (`COORDINATOR_UNREACHABLE`), instead of a bare
 * "fetch failed". A refusal keeps the coordinator's own code and message (a wrong token, a role
 * that may not do it), which the CLI prints.
 */
import { AdminClient } from "../../client/admin-client.ts";
import { ConsiliumError } from "../../core/errors.ts";

/** A network error's cause in a few words: its code, else its message, else those of the attempts it aggregates (a dual-stack host). */
function describeCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) return [...new Set(cause.errors.map(describeCause))].join("; ");
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? (cause.message || cause.name);
  return String(cause);
}

export function operatorClient(coordinator: string, token: string, fetchFn: typeof fetch = fetch): AdminClient {
  const reaching = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    try {
      return await fetchFn(input, init);
    } catch (err) {
      // fetch's network failures carry their cause (a refused connection, a name that does not resolve); other TypeErrors (a token with characters a header cannot hold) are not about reaching it.
      if (!(err instanceof TypeError) || err.cause === undefined) throw err;
      throw new ConsiliumError("COORDINATOR_UNREACHABLE", `cannot reach the coordinator at ${coordinator}: ${describeCause(err.cause)}`, 503);
    }
  }) as typeof fetch;
  return new AdminClient(coordinator, token, reaching);
}
