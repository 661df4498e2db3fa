/**
 * @module
 * `consilium doctor`: a hospital's IT team runs it on the machine that will run the site, before
 * joining. It says what works and what does not, each problem with its remedy (`cli/doctor.ts`),
 * as a table or `--json`; the exit code is 1 when anything fails.
 */
import Table from "cli-table3";
import { z } from "zod";
import { siteIdOfCredential } from "../../core/site-credential.ts";
import { checkBackends, checkCoordinator, checkDisk, checkNode, checkStateDir, type Finding } from "../doctor.ts";
import { boolFlag, parseFlags, processIo, textFlag, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";
import { defaultStateDirHelp, defaultStateDirOf, siteStateRoot } from "./site-state-dir.ts";

export const DoctorFlags = z.object({
  coordinator: urlFlag().optional(),
  token: textFlag().refine((t) => siteIdOfCredential(t) !== null, "expected a site credential cs_<siteId>_<secret>, as consilium enrol prints it").optional(),
  "state-dir": textFlag().optional(),
  seconds: z
    .string()
    .regex(/^\s*(\d+\.?\d*|\.\d+)\s*$/, "expected a number of seconds from 0.1 to 60")
    .transform(Number)
    .pipe(z.number().min(0.1, "expected a number of seconds from 0.1 to 60").max(60, "expected a number of seconds from 0.1 to 60"))
    .default(5),
  json: boolFlag(),
});
export type DoctorFlags = z.infer<typeof DoctorFlags>;

export const doctorSpec: CommandSpec<typeof DoctorFlags> = {
  name: "doctor",
  summary: "Checks this machine before it runs a site: Node.js, which TensorFlow.js backends load (and why the others do not) with each one's training throughput, the coordinator with the site's credential (its expiry, the clocks' skew), the state folder's permissions and the free disk; each problem with its remedy. Exit code 1 when a check fails.",
  schema: DoctorFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL (its check is skipped without it)" },
    token: { type: "string", value: "T", env: "CONSILIUM_SITE_TOKEN", secret: true, help: "the site credential from consilium enrol" },
    "state-dir": { type: "string", value: "DIR", help: `the site's state folder (default ${defaultStateDirHelp}, or ${siteStateRoot} without a credential)` },
    seconds: { type: "string", value: "S", help: "how long each backend trains to measure its throughput (default 5)" },
    json: { type: "boolean", help: "print the findings as JSON" },
  },
};

const MARK: Record<Finding["verdict"], string> = { ok: "ok", warn: "WARN", fail: "FAIL", skipped: "skipped" };

/**
 * @example
 * const code = await doctorCommand(["--coordinator", url]); // CONSILIUM_SITE_TOKEN in the environment
 */
export async function doctorCommand(argv: string[], options: { io?: CommandIo; fetch?: typeof fetch; now?: () => number; checkBackends?: typeof checkBackends } = {}): Promise<number> {
  const io = options.io ?? processIo;
  const flags = parseFlags(doctorSpec, argv, io.env, io.err);
  const siteId = flags.token === undefined ? null : siteIdOfCredential(flags.token);
  const stateDir = flags["state-dir"] ?? (siteId ? defaultStateDirOf(siteId) : siteStateRoot);
  const findings: Finding[] = [
    checkNode(),
    ...(await (options.checkBackends ?? checkBackends)(flags.seconds)),
    ...(await checkCoordinator(flags.coordinator, flags.token, options.fetch, options.now)),
    await checkStateDir(stateDir),
    await checkDisk(stateDir),
  ];
  const failed = findings.filter((f) => f.verdict === "fail").length;
  const warned = findings.filter((f) => f.verdict === "warn").length;
  if (flags.json) io.out(JSON.stringify({ findings, failed, warned }, null, 2));
  else {
    const table = new Table({ head: ["check", "", "finding"], style: { head: [], border: [] }, colWidths: [20, 9, 90], wordWrap: true });
    for (const f of findings) table.push([f.check, MARK[f.verdict], f.detail]);
    io.out(table.toString());
    for (const f of findings) if (f.remedy && f.verdict !== "ok") io.out(`${MARK[f.verdict]} ${f.check}: ${f.remedy}`);
    io.out(failed > 0 ? `${failed} check${failed === 1 ? "" : "s"} failed, ${warned} warning${warned === 1 ? "" : "s"}` : `ready to run a site${warned > 0 ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}`);
  }
  return failed > 0 ? 1 : 0;
}
