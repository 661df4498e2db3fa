/**
 * @module
 * The coordinator as the operator commands reach it: an `AdminClient` whose network failures say
 * which coordinator could not be reached and why (`COORDINATOR_UNREACHABLE`), instead of a bare
 * "fetch failed". A refusal keeps the coordinator's own code and message (a wrong token, a role
 * that may not do it), which the CLI prints.
 */
import { AdminClient } from "../../client/admin-client.ts";
import { ConsiliumError } from "../../core/errors.ts";

export function operatorClient(coordinator: string, token: string, fetchFn: typeof fetch = fetch): AdminClient {
  const reaching = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    try {
      return await fetchFn(input, init);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : `: ${err.message}`;
      throw new ConsiliumError("COORDINATOR_UNREACHABLE", `cannot reach the coordinator at ${coordinator}${cause}`, 503);
    }
  }) as typeof fetch;
  return new AdminClient(coordinator, token, reaching);
}
