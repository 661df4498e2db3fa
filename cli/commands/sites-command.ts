/**
 * @module
 * `consilium sites list | rotate ID [--expires-days N] | revoke ID`: the consortium's hospitals
 * from the operator's seat, against a coordinator with the credential from the environment.
 * `rotate` prints the site's new credential once, as JSON, for the hospital's IT team
 * (`CONSILIUM_SITE_TOKEN` on the site's machine); the one before stops working at once.
 * `revoke` ends the site's participation: every credential it holds is refused from its next
 * request on.
 */
import Table from "cli-table3";
import { z } from "zod";
import { operatorClient } from "./operator-client.ts";
import type { SiteStatus } from "../../core/schemas/status.ts";
import { boolFlag, intFlag, parseFlags, processIo, textFlag, UsageError, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

const ACTIONS = ["list", "rotate", "revoke"] as const;
type Action = (typeof ACTIONS)[number];

export const SitesFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  "expires-days": intFlag(1, 3650).optional(),
  json: boolFlag(),
});
export type SitesFlags = z.infer<typeof SitesFlags>;

export const sitesSpec: CommandSpec<typeof SitesFlags> = {
  name: "sites",
  summary:
    "The consortium's hospitals: `sites list`, `sites rotate ID [--expires-days N]` (a new credential, printed once as JSON; the one before is refused from its next request), `sites revoke ID` (every credential of the site refused from its next request).",
  schema: SitesFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "an operator's credential (list: a viewer's is enough)" },
    "expires-days": { type: "string", value: "N", help: "rotate: the new credential stops working after N days (default: it does not expire)" },
    json: { type: "boolean", help: "list and revoke: print the answer as JSON" },
  },
};

function listLines(sites: readonly SiteStatus[]): string[] {
  if (sites.length === 0) return ["no site enrolled yet (consilium enrol --name NAME)"];
  const table = new Table({ head: ["site", "name", "statistics", "updates", "evaluated"], style: { head: [], border: [] } });
  for (const s of sites) table.push([s.id, s.name, s.statsReported ? "reported" : "—", s.updates, s.evaluated ? "yes" : "—"]);
  return [table.toString()];
}

/**
 * @example
 * await sitesCommand(["rotate", "zurich-0a1b2c", "--expires-days", "365", "--coordinator", url]);
 */
export async function sitesCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<unknown> {
  const io = options.io ?? processIo;
  if (argv.includes("--help") || argv.includes("-h")) return parseFlags(sitesSpec, ["--help"], io.env);
  const [action, ...rest] = argv;
  if (!ACTIONS.includes(action as Action)) throw new UsageError(action === undefined || action.startsWith("-") ? `expected one of ${ACTIONS.join(", ")}` : `unknown action "${action}" (known: ${ACTIONS.join(", ")})`);
  const named = action !== "list";
  const siteId = named ? rest[0] : undefined;
  if (named && (siteId === undefined || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(siteId))) throw new UsageError(`${action}: expected the site id first (lower-case letters, digits and dashes), e.g. consilium sites ${action} zurich-0a1b2c`);
  const flags = parseFlags(sitesSpec, named ? rest.slice(1) : rest, io.env, (line) => io.err(line));
  if (action !== "rotate" && flags["expires-days"] !== undefined) throw new UsageError("--expires-days goes with rotate");
  const admin = operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn);
  if (action === "rotate") {
    const rotated = await admin.rotate(siteId!, flags["expires-days"]);
    // The credential is the answer: JSON on stdout, for the hospital; shown this once.
    io.out(JSON.stringify(rotated, null, 2));
    io.err(`site ${rotated.siteId}: credential generation ${rotated.generation}${rotated.expiresAt === null ? "" : `, expires ${new Date(rotated.expiresAt).toISOString()}`}; the one before is refused from its next request. Hand the token to the hospital privately: it is not shown again`);
    return rotated;
  }
  if (action === "revoke") {
    const revoked = await admin.revoke(siteId!);
    if (flags.json) io.out(JSON.stringify(revoked, null, 2));
    else io.out(`site ${revoked.siteId} revoked at ${new Date(revoked.revokedAt).toISOString()}: every credential it holds is refused from its next request`);
    return revoked;
  }
  const { sites } = await admin.status();
  if (flags.json) io.out(JSON.stringify(sites, null, 2));
  else for (const line of listLines(sites)) io.out(line);
  return sites;
}
