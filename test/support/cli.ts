/**
 * @module
 * Helpers for the CLI's tests.
 */
import type { z } from "zod";
import { parseFlags, UsageError, type CommandSpec } from "../../cli/commands/flags.ts";

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
