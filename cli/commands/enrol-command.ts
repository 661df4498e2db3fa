/**
 * @module
 * `consilium enrol`: gives a hospital its site id and credential, printed once as JSON.
 */
import { z } from "zod";
import type { EnrolResponse } from "../../core/schemas/federation.ts";
import { AdminClient } from "../../client/admin-client.ts";
import { intFlag, parseFlags, processIo, textFlag, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";

export const EnrolFlags = z.object({
  coordinator: urlFlag(),
  name: textFlag().max(200, "must be at most 200 characters"),
  "admin-token": textFlag(),
  "expires-days": intFlag(1, 3650).optional(),
});
export type EnrolFlags = z.infer<typeof EnrolFlags>;

export const enrolSpec: CommandSpec<typeof EnrolFlags> = {
  name: "enrol",
  summary: "Enrols a site with the coordinator and prints {\"siteId\", \"token\"} as JSON on stdout; the token is shown only once.",
  schema: EnrolFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    name: { type: "string", value: "NAME", help: "the hospital's name, as reports show it" },
    "admin-token": { type: "string", value: "T", env: "CONSILIUM_ADMIN_TOKEN", secret: true, help: "administrator bearer token" },
    "expires-days": { type: "string", value: "N", help: "the credential stops working after N days (rotate it before: consilium sites rotate ID); default: it does not expire" },
  },
};

/**
 * @example
 * const { siteId, token } = await enrolCommand(["--coordinator", url, "--name", "Zurich", "--admin-token", t]);
 */
export async function enrolCommand(argv: readonly string[], options: { readonly io?: CommandIo } = {}): Promise<EnrolResponse> {
  const io = options.io ?? processIo;
  const flags = parseFlags(enrolSpec, argv, io.env, (line) => io.err(line));
  const enrolled = await new AdminClient(flags.coordinator, flags["admin-token"]).enrol(flags.name, undefined, flags["expires-days"]).catch((err: unknown) => {
    if (!(err instanceof TypeError)) throw err;
    // A refusal keeps its stable code (FORBIDDEN, DUPLICATE_SITE…), which the CLI prints; a network failure says where.
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    throw new Error(`cannot reach the coordinator at ${flags.coordinator}${cause}`);
  });
  io.out(JSON.stringify(enrolled));
  return enrolled;
}
