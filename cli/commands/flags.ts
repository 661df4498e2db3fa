/**
 * @module
 * Flag parsing shared by every `consilium` command: node's `parseArgs` for the syntax, one zod
 * schema per command for the meaning (environment fallbacks included), and one line naming the
 * flag when either refuses. The same flag table prints `--help`.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import type { Logger } from "../../core/logger.ts";

/** Bad flags or environment: the CLI prints the message on one line and exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

/** `--help` or `-h` was given: the CLI prints `text` and exits with code 0. */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
  constructor(readonly text: string) {
    super("help requested");
  }
}

export interface Flag {
  readonly type: "string" | "boolean";
  /** Placeholder shown in help, e.g. `N` or `URL`. */
  readonly value?: string;
  readonly help: string;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
  /** Never echoed in error messages (tokens). */
  readonly secret?: boolean;
}

export interface CommandSpec<S extends z.ZodType> {
  /** As typed after `consilium`, e.g. `site export`. */
  readonly name: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, Flag>>;
  /** Receives every flag as parseArgs produced it (strings, booleans, undefined). */
  readonly schema: S;
}

/** Where a command writes and what environment it sees; tests pass their own. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIo: CommandIo = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  get env() {
    return process.env;
  },
};

/** Warnings and errors always, info lines with `verbose`; all on the error stream. */
export function ioLogger(io: CommandIo, verbose: boolean): Logger {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    io.err(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  return { info: verbose ? line("info") : () => undefined, warn: line("warn"), error: line("error") };
}

const onlyIfGiven = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "required" : message);

/** A whole number in [min, max], given as text. */
export const intFlag = (min: number, max: number) => {
  const message = `expected a whole number from ${min} to ${max}`;
  return z.string({ error: onlyIfGiven(message) }).regex(/^\s*-?\d+\s*$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
};

/** A number strictly between 0 and 1, given as text. */
export const fractionFlag = () => {
  const message = "expected a number between 0 and 1, exclusive";
  return z.string({ error: onlyIfGiven(message) }).regex(/^\s*(\d+\.?\d*|\.\d+)(e-?\d+)?\s*$/i, message).transform(Number).pipe(z.number().gt(0, message).lt(1, message));
};

/** An absolute http(s) URL. */
export const urlFlag = () => z.url({ protocol: /^https?$/, error: onlyIfGiven("expected an http(s) URL such as http://127.0.0.1:8787") });

/** Any non-empty text. */
export const textFlag = () => z.string({ error: onlyIfGiven("expected text") }).min(1, "must not be empty");

/** One of a fixed list of words. */
export const choiceFlag = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: onlyIfGiven(`expected one of ${values.join(", ")}`) });

export const boolFlag = () => z.boolean().default(false);

/** A `A,B,C` flag's items, trimmed, empty ones dropped; none when the flag is absent. */
export const commaList = (text: string | undefined): string[] => text?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];

const helpFlag: Flag = { type: "boolean", help: "show this help" };

/**
 * Parses `argv` (and the environment fallbacks) into the command's schema output.
 * @throws UsageError naming the first offending flag; HelpRequested for `--help`/`-h`.
 * @example
 * const flags = parseFlags(enrolSpec, ["--coordinator", url, "--name", "Zurich"], process.env);
 */
export function parseFlags<S extends z.ZodType>(spec: CommandSpec<S>, argv: readonly string[], env: CommandIo["env"] = {}, warn?: (line: string) => void): z.output<S> {
  const options = Object.fromEntries([
    ...Object.entries(spec.flags).map(([name, f]) => [name, { type: f.type }] as const),
    ["help", { type: "boolean", short: "h" }] as const,
  ]);
  const values: Record<string, string | boolean | undefined> = {};
  try {
    // No flag is `multiple`, so no value is an array; a repeated flag keeps its last value.
    for (const [k, v] of Object.entries(parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values)) if (!Array.isArray(v)) values[k] = v;
  } catch (err) {
    throw new UsageError(syntaxMessage(err));
  }
  if (values.help) throw new HelpRequested(helpText(spec));
  delete values.help;
  for (const [name, f] of Object.entries(spec.flags)) {
    // Any user of the machine can read a process's arguments (/proc/PID/cmdline, ps).
    if (f.secret && values[name] !== undefined) warn?.(`--${name} on the command line is readable by every user of this machine; set ${f.env ?? "it in the environment"} instead`);
  }
  const fromEnv = new Set<string>();
  for (const [name, f] of Object.entries(spec.flags)) {
    const fallback = f.env === undefined ? undefined : env[f.env];
    if (values[name] === undefined && fallback !== undefined && fallback !== "") {
      values[name] = fallback;
      fromEnv.add(name);
    }
  }
  const parsed = spec.schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue?.path[0];
  const flag = typeof key === "string" ? spec.flags[key] : undefined;
  if (!issue || typeof key !== "string" || !flag) throw new UsageError(issue?.message ?? "invalid flags");
  const raw = values[key];
  const name = fromEnv.has(key) ? (flag.env ?? `--${key}`) : raw === undefined && flag.env ? `--${key} (or ${flag.env})` : `--${key}`;
  const got = typeof raw === "string" && raw !== "" && !flag.secret && issue.code !== "custom" ? ` (got "${raw}")` : "";
  throw new UsageError(`${name}: ${issue.message}${got}`);
}

/** parseArgs's errors, which differ between node versions, as one short line. */
function syntaxMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  const flag = /'(-[^' ]+)/.exec(text)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown flag ${flag}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument "${/'([^']*)'/.exec(text)?.[1] ?? ""}"`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/does not take an argument/.test(text)) return `${flag}: takes no value`;
    if (/ambiguous/.test(text)) return `${flag}: needs a value (write ${flag}=VALUE for a value that starts with "-")`;
    return `${flag}: needs a value`;
  }
  return text.split("\n")[0] ?? text;
}

const left = (name: string, f: Flag) => `--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;

/** `consilium <name> --help`: usage line, summary, then one line per flag. */
export function helpText(spec: CommandSpec<z.ZodType>): string {
  const rows = [...Object.entries(spec.flags), ["help", helpFlag] as const].map(([name, f]) => [
    name === "help" ? "-h, --help" : left(name, f),
    `${f.help}${f.env ? ` [env ${f.env}]` : ""}`,
  ]);
  const width = Math.max(...rows.map(([l = ""]) => l.length)) + 2;
  return [`usage: consilium ${spec.name} [flags]`, "", spec.summary, "", "flags:", ...rows.map(([l = "", r]) => `  ${l.padEnd(width)}${r}`)].join("\n");
}

/** The flag reference as a markdown table, for docs/cli.md. */
export function flagTable(spec: CommandSpec<z.ZodType>): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => `| \`${left(name, f)}\` | ${f.env ? `\`${f.env}\`` : ""} | ${f.help.replaceAll("|", "\\|")} |`);
  return [`| flag | env | meaning |`, `|---|---|---|`, ...rows].join("\n");
}

/** An io that keeps every line, for tests and for embedding a command. */
export function memoryIo(env: CommandIo["env"] = {}): CommandIo & { readonly outLines: string[]; readonly errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { out: (l) => void outLines.push(l), err: (l) => void errLines.push(l), env, outLines, errLines };
}
