#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: no build step between clone and run.
import { register } from "tsx/esm/api";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
register();
const { main } = await import("../cli/main.ts");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // A coordinator's refusal carries its stable code (FEDERATION_EXISTS, DUPLICATE_SITE…); say it.
  const code = err instanceof Error && typeof err.code === "string" && !err.message.startsWith(err.code) ? `${err.code}: ` : "";
  process.stderr.write(`consilium: ${code}${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.CONSILIUM_DEBUG) console.error(err);
  process.exitCode = 1;
}
