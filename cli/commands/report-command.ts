/**
 * @module
 * `consilium report --coordinator URL --html FILE`: a live or finished federation's report as one
 * self-contained HTML file (`cli/html-report.tsx`), from the coordinator's status as an operator
 * reads it (a viewer's credential is enough). What only a simulation knows is left out: a
 * centralized model trained on the pooled rows, and other seeds.
 */
import { writeFile } from "node:fs/promises";
import { z } from "zod";
import { buildRunReport } from "../../core/report/build-run-report.ts";
import { summariseRuns } from "../../core/report/summarise-runs.ts";
import type { Report } from "../../core/schemas/report.ts";
import { renderHtmlReport } from "../html-report.tsx";
import { parseFlags, processIo, textFlag, urlFlag, type CommandIo, type CommandSpec } from "./flags.ts";
import { operatorClient } from "./operator-client.ts";
import { tokenFlag } from "./status-command.ts";

export const ReportFlags = z.object({
  coordinator: urlFlag(),
  "admin-token": textFlag(),
  html: z.string().min(1),
});
export type ReportFlags = z.infer<typeof ReportFlags>;

export const reportSpec: CommandSpec<typeof ReportFlags> = {
  name: "report",
  summary: "A live or finished federation's report as one self-contained HTML file (charts inline; opens offline, asks the network for nothing): learning curve, each site's accuracy, ROC curves and calibration once the sites have evaluated, traffic, privacy spent and quality flags.",
  schema: ReportFlags,
  flags: {
    coordinator: { type: "string", value: "URL", help: "the coordinator's URL" },
    "admin-token": tokenFlag,
    html: { type: "string", value: "FILE", help: "where to write the report" },
  },
};

/**
 * @example
 * await reportCommand(["--coordinator", url, "--html", "report.html"]); // CONSILIUM_ADMIN_TOKEN in the environment
 */
export async function reportCommand(argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch } = {}): Promise<Report> {
  const io = options.io ?? processIo;
  const flags = parseFlags(reportSpec, argv, io.env, (line) => io.err(line));
  // Each site's curves while the consortium's updates fit one answer; beyond, the pooled curves alone.
  const status = await operatorClient(flags.coordinator, flags["admin-token"], options.fetchFn).status({ perSite: true });
  if (status.perSiteOmitted) io.err(`per-site learning curves left out: ${status.perSiteOmitted}`);
  const run = buildRunReport({ seed: 0, wallSeconds: 0, status, centralized: new Map() });
  const report = summariseRuns({ backend: "—", dataset: status.federation, model: "—", strategy: status.strategy, codec: status.codec, roundsPlanned: status.rounds }, [run]);
  await writeFile(flags.html, renderHtmlReport(report));
  io.err(`wrote ${flags.html}: ${status.federation}, ${status.state.phase}, ${status.roundLog.length} of ${status.rounds} rounds`);
  return report;
}
