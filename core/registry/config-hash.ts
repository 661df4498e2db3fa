import { createHash } from "node:crypto";
import type { z } from "zod";
import { FederationConfig } from "../schemas/federation.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Lower-case hex SHA-256 of the canonical JSON (`canonicalJson`) of a federation's config as its
 * schema parses it: key order and spelled-out defaults do not change the hash, any value does.
 * Reproducible outside Consilium: parse the config, canonicalise it with RFC 8785, `sha256sum`.
 *
 * @example
 * card.configSha256 === configHash(federation.config);
 */
export function configHash(config: z.input<typeof FederationConfig>): string {
  return createHash("sha256").update(canonicalJson(FederationConfig.parse(config))).digest("hex");
}
