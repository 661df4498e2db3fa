/**
 * @module
 * The `consilium` command: dispatches to one command module, turns usage errors into exit code 2
 * and SIGINT/SIGTERM into a clean stop of the long-running commands.
 */
import { coordinatorCommand } from "./commands/coordinator-command.ts";
import { readFileSync } from "node:fs";
import { enrolCommand } from "./commands/enrol-command.ts";
import { federationCreateCommand, federationInitCommand } from "./commands/federation-command.ts";
import { roundsCommand, statusCommand } from "./commands/status-command.ts";
import { doctorCommand } from "./commands/doctor-command.ts";
import { reportCommand } from "./commands/report-command.ts";
import { modelsCommand } from "./commands/models-command.ts";
import { auditCommand } from "./commands/audit-command.ts";
import { operatorsCommand } from "./commands/operators-command.ts";
import { sitesCommand } from "./commands/sites-command.ts";
import { runsCommand } from "./commands/runs-command.ts";
import { predictCommand } from "./commands/predict-command.ts";
import { serveCommand } from "./commands/serve-command.ts";
import { exportCommand } from "./commands/export-command.ts";
import { HelpRequested, processIo, UsageError, type CommandIo } from "./commands/flags.ts";
import { simulateCommand } from "./commands/simulate-command.ts";
import { siteCommand } from "./commands/site-command.ts";
import { synthCommand } from "./commands/synth-command.ts";

const USAGE = `usage: consilium <command> [flags]

commands:
  simulate      run a whole federation on this machine (embedded S3/SQS, coordinator, one runner per site)
  coordinator   serve the coordinator over HTTP until SIGINT/SIGTERM
  enrol         enrol a site with a coordinator and print its credential as JSON
  site          run one hospital's runner against a coordinator
  site export   write a site's personalized model in TensorFlow.js format
  site predict  score a CSV of a site's rows with its personalized model
  site serve    serve a site's personalized model on a local HTTP endpoint until SIGINT/SIGTERM
  federation init
                write a FederationConfig from a CSV's columns and a data dictionary
  federation create
                create the consortium at a coordinator (--config FILE, --dataset or --cdm)
  status        where the consortium's active run stands (a viewer's credential is enough)
  rounds        the active run's rounds: list, show R
  report        a federation's report as one self-contained HTML file (--html FILE)
  models        the model registry: list, show V, promote V, rollback --to V
  audit         the audit trail: verify (live or an export), export --since T --format jsonl|csv
  operators     the consortium's named operators: add NAME --role R, list, revoke NAME
  sites         the consortium's hospitals: list, rotate ID, revoke ID
  runs          the consortium's training runs: list, start --reason R
  synth         write a synthetic FHIR R4 consortium for simulate --fhir DIR
  doctor        check this machine before it runs a site: backends, coordinator, clock, state folder, disk

Run 'consilium <command> --help' for its flags; 'consilium --version' for the version.`;

/** This package's version, from its package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

/** Runs `run` with a signal that SIGINT or SIGTERM aborts; a second signal is left to node (exit). */
async function untilSignal<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    return await run(controller.signal);
  } finally {
    process.off("SIGINT", abort);
    process.off("SIGTERM", abort);
  }
}

async function dispatch(command: string, rest: string[], io: CommandIo): Promise<number> {
  switch (command) {
    case "simulate":
      await simulateCommand(rest, io);
      return 0;
    case "models":
      await modelsCommand(rest, { io });
      return 0;
    case "runs":
      await runsCommand(rest, { io });
      return 0;
    case "audit":
      await auditCommand(rest, { io });
      return 0;
    case "operators":
      await operatorsCommand(rest, { io });
      return 0;
    case "sites":
      await sitesCommand(rest, { io });
      return 0;
    case "federation":
      if (rest[0] === "create") {
        await federationCreateCommand(rest.slice(1), { io });
        return 0;
      }
      if (rest[0] !== "init") throw new UsageError(rest[0] === undefined ? "expected a subcommand: consilium federation init|create" : `unknown subcommand "${rest[0]}" (known: init, create)`);
      await federationInitCommand(rest.slice(1), io);
      return 0;
    case "doctor":
      return doctorCommand(rest, { io });
    case "status":
      await statusCommand(rest, { io });
      return 0;
    case "rounds":
      await roundsCommand(rest, { io });
      return 0;
    case "report":
      await reportCommand(rest, { io });
      return 0;
    case "coordinator":
      await untilSignal(async (signal) => (await coordinatorCommand(rest, { signal })).closed);
      return 0;
    case "enrol":
      await enrolCommand(rest);
      return 0;
    case "synth":
      await synthCommand(rest);
      return 0;
    case "site": {
      if (rest[0] === "export") {
        await exportCommand(rest.slice(1), { io });
        return 0;
      }
      if (rest[0] === "predict") {
        await predictCommand(rest.slice(1), { io });
        return 0;
      }
      if (rest[0] === "serve") {
        await untilSignal(async (signal) => (await serveCommand(rest.slice(1), { signal, io })).closed);
        return 0;
      }
      const result = await untilSignal((signal) => siteCommand(rest, { signal }).then((r) => ({ ...r, stopped: signal.aborted })));
      return result.evaluation ? 0 : result.stopped ? 130 : 1;
    }
    default:
      return -1;
  }
}

/** Exit code: 0 done, 1 failed (thrown errors reach bin/consilium.mjs), 2 usage error, 130 stopped. */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    io.out(`consilium ${version()}`);
    return 0;
  }
  const name = (command === "site" && ["export", "predict", "serve"].includes(rest[0] ?? "")) || (command === "federation" && ["init", "create"].includes(rest[0] ?? "")) ? `${command} ${rest[0]}` : command;
  try {
    const code = await dispatch(command, rest, io);
    if (code >= 0) return code;
    io.err(`consilium: unknown command "${command}"\n${USAGE}`);
    return 2;
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.out(err.text);
      return 0;
    }
    if (err instanceof UsageError) {
      io.err(`consilium ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
