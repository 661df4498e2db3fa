/**
 * @module
 * Helpers for the CLI's tests.
 */
import type { z } from "zod";
import { memoryIo, parseFlags, UsageError, type CommandIo, type CommandSpec } from "../../cli/commands/flags.ts";
import { ADMIN_TOKEN, type Harness } from "./coordinator.ts";

/** The usage error `argv` (and `env`) earn from `spec`; a test failure when they parse. */
export function usageOf<S extends z.ZodType>(spec: CommandSpec<S>, argv: readonly string[], env: Record<string, string> = {}): string {
  try {
    parseFlags(spec, argv, env);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`parsed: ${argv.join(" ")}`);
}

/** A `fetch` that answers from the harness's app, no network in between. */
export const harnessFetch = (h: Harness): typeof fetch =>
  ((input: string | URL | Request, init?: RequestInit) => h.app.request(new Request(input, init))) as typeof fetch;

export type OperatorCommand = (argv: readonly string[], options: { readonly io?: CommandIo; readonly fetchFn?: typeof fetch }) => Promise<unknown>;

/**
 * Runs an operator command against the harness's app (`--coordinator http://coordinator.test`),
 * the credential from the environment: what it printed, and what it returned or threw.
 */
export async function runOperatorCommand(h: Harness, command: OperatorCommand, argv: readonly string[], token = ADMIN_TOKEN) {
  const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: token });
  const result = await command([...argv, "--coordinator", "http://coordinator.test"], { io, fetchFn: harnessFetch(h) }).catch((err: unknown) => err);
  return { io, result };
}
