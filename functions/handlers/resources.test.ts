import { describe, expect, it, vi } from "vitest";
import { SqsJobQueue } from "../adapters/sqs-job-queue.ts";
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditSigningKey } from "../../core/audit/trail.ts";
import { depsFromEnv, relayFromEnv } from "./resources.ts";

const linked = {
  SST_RESOURCE_State: JSON.stringify({ name: "consilium-state-abc" }),
  SST_RESOURCE_Jobs: JSON.stringify({ url: "https://sqs.eu-west-1.amazonaws.com/123456789012/consilium-jobs" }),
  SST_RESOURCE_AdminToken: JSON.stringify({ value: "0123456789abcdef" }),
};

/** The message `depsFromEnv` throws for this environment, or `undefined` when it accepts it. */
function problem(env: NodeJS.ProcessEnv): string | undefined {
  try {
    depsFromEnv(env);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe("depsFromEnv", () => {
  it("builds S3/SQS-backed deps from the linked resources", async () => {
    // Prepare: presigning is local, it only needs some credentials and a region.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    vi.stubEnv("AWS_REGION", "eu-west-1");

    // Execute
    const deps = depsFromEnv({ ...linked, AWS_REGION: "eu-west-1" });
    const url = new URL(await deps.store.presignGet("models/000001/weights.bin", 60));
    vi.unstubAllEnvs();

    // Assert: the (cached) store addresses the linked bucket through S3
    expect(`${url.host}${url.pathname}`).toContain("consilium-state-abc");
    expect(url.pathname).toContain("models/000001/weights.bin");
    expect(deps.queue).toBeInstanceOf(SqsJobQueue);
    expect(deps.adminToken).toBe("0123456789abcdef");
  });

  it("takes the sites' polling interval from CONSILIUM_POLL_MS, and refuses one that is not a whole number of milliseconds in range", () => {
    expect(depsFromEnv({ ...linked, CONSILIUM_POLL_MS: "250" }).pollMs).toBe(250);
    expect(depsFromEnv(linked).pollMs).toBeUndefined();
    expect(problem({ ...linked, CONSILIUM_POLL_MS: "fast" })).toMatch(/^coordinator environment is invalid: CONSILIUM_POLL_MS: /);
    expect(problem({ ...linked, CONSILIUM_POLL_MS: "10" })).toMatch(/CONSILIUM_POLL_MS: /);
  });

  it("reads the secrets SST links from its encrypted file, as a deployed function receives them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "consilium-sst-key-"));
    try {
      // What SST bundles: the linked resources as JSON, AES-256-GCM under a random key with a zero nonce, the tag after.
      const key = randomBytes(32);
      const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
      const seed = randomBytes(32).toString("hex");
      const plain = JSON.stringify({ AdminToken: { type: "sst.sst.Secret", value: "fedcba9876543210" }, AuditKey: { type: "sst.sst.Secret", value: seed } });
      await writeFile(join(dir, "resource.enc"), Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]));
      const deployed = { SST_RESOURCE_State: linked.SST_RESOURCE_State, SST_RESOURCE_Jobs: linked.SST_RESOURCE_Jobs, SST_KEY: key.toString("base64"), SST_KEY_FILE: join(dir, "resource.enc") };
      const deps = depsFromEnv(deployed);
      expect(deps.adminToken).toBe("fedcba9876543210");
      expect(deps.auditKey?.publicKey).toBe(auditSigningKey(seed).publicKey);
      // A wrong key is an error that names the file, never a coordinator without its secrets.
      expect(() => depsFromEnv({ ...deployed, SST_KEY: randomBytes(32).toString("base64") })).toThrow(/^the linked resources in .*resource\.enc \(SST_KEY_FILE\) cannot be read with SST_KEY/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("leaves the admin token empty for a function the secret is not linked to", () => {
    const { SST_RESOURCE_AdminToken: _, ...aggregator } = linked;
    expect(depsFromEnv(aggregator).adminToken).toBe("");
  });

  it("names every missing variable", () => {
    expect(problem({})).toBe(
      "coordinator environment is invalid: SST_RESOURCE_State: Invalid input: expected string, received undefined; " +
        "SST_RESOURCE_Jobs: Invalid input: expected string, received undefined",
    );
  });

  it("names a variable that is not JSON", () => {
    expect(problem({ ...linked, SST_RESOURCE_State: "consilium-state-abc" })).toBe("coordinator environment is invalid: SST_RESOURCE_State: not JSON");
  });

  it("names the field of a linked resource that is invalid", () => {
    expect(problem({ ...linked, SST_RESOURCE_Jobs: JSON.stringify({ url: "consilium-jobs" }) })).toBe(
      "coordinator environment is invalid: SST_RESOURCE_Jobs.url: Invalid URL",
    );
    expect(problem({ ...linked, SST_RESOURCE_State: JSON.stringify({ bucket: "x" }) })).toBe(
      "coordinator environment is invalid: SST_RESOURCE_State.name: Invalid input: expected string, received undefined",
    );
  });

  it("refuses an admin token shorter than 16 characters", () => {
    expect(problem({ ...linked, SST_RESOURCE_AdminToken: JSON.stringify({ value: "short" }) })).toBe(
      "coordinator environment is invalid: SST_RESOURCE_AdminToken.value: admin token must be at least 16 characters",
    );
  });
});

describe("relayFromEnv", () => {
  const relay = {
    CONSILIUM_REGION: "eu",
    CONSILIUM_UPSTREAM_URL: "https://global.example.org",
    SST_RESOURCE_UpstreamToken: JSON.stringify({ value: "cs_region-eu_s3cr3t" }),
  };

  it("reads a regional stage's region, the global coordinator's URL and the region's credential", () => {
    expect(relayFromEnv(relay)).toEqual({ region: "eu", upstreamUrl: "https://global.example.org", token: "cs_region-eu_s3cr3t" });
  });

  it("names what is wrong", () => {
    expect(() => relayFromEnv({ ...relay, CONSILIUM_UPSTREAM_URL: "global" })).toThrow("relay environment is invalid: CONSILIUM_UPSTREAM_URL: Invalid URL");
    expect(() => relayFromEnv({ ...relay, CONSILIUM_REGION: "EU West" })).toThrow("relay environment is invalid: CONSILIUM_REGION: region must be lower-case letters, digits and dashes");
    const { SST_RESOURCE_UpstreamToken: _, ...unlinked } = relay;
    expect(() => relayFromEnv(unlinked)).toThrow(/^relay environment is invalid: SST_RESOURCE_UpstreamToken: /);
  });
});
