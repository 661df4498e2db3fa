import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { heartDiseaseSpec } from "../../gpu-runner/data/builtin-datasets.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { AdminClient } from "../../client/admin-client.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { defaultRecipe } from "../recipes.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../embedded-stack.ts";
import { coordinatorCommand, coordinatorSpec, federationFromDataset, federationFromFile } from "./coordinator-command.ts";
import { memoryIo, parseFlags, UsageError } from "./flags.ts";
import { usageOf } from "../../test/support/cli.ts";

const TOKEN = "an-admin-token-of-some-length";

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(coordinatorSpec, argv, env);

describe("consilium coordinator: flags", () => {
  it("defaults to loopback on port 8787", () => {
    expect(parseFlags(coordinatorSpec, ["--dataset", "heart-disease"])).toEqual({ port: 8787, host: "127.0.0.1", dataset: "heart-disease", "secure-aggregation": false, verbose: false });
  });

  it("takes every flag, and the admin token from the environment", () => {
    // Execute
    const flags = parseFlags(
      coordinatorSpec,
      ["--port", "0", "--host", "0.0.0.0", "--dataset", "wdbc", "--rounds", "5", "--sites", "3", "--s3-endpoint", "http://127.0.0.1:4566", "--bucket", "state", "--queue-url", "http://127.0.0.1:4566/000000000000/jobs", "--region", "eu-west-1", "--verbose"],
      { CONSILIUM_ADMIN_TOKEN: TOKEN },
    );
    // Assert
    expect(flags).toEqual({
      port: 0, host: "0.0.0.0", dataset: "wdbc", rounds: 5, sites: 3, "s3-endpoint": "http://127.0.0.1:4566", bucket: "state",
      "queue-url": "http://127.0.0.1:4566/000000000000/jobs", region: "eu-west-1", "secure-aggregation": false, verbose: true, "admin-token": TOKEN,
    });
  });

  it("refuses bad values and combinations with one line naming the flag", () => {
    expect(usage(["--dataset", "heart-disease", "--port", "70000"])).toBe('--port: expected a whole number from 0 to 65535 (got "70000")');
    expect(usage(["--dataset", "mnist"])).toBe('--dataset: expected one of heart-disease, wdbc (got "mnist")');
    expect(usage(["--dataset", "wdbc", "--rounds", "0"])).toBe('--rounds: expected a whole number from 1 to 100000 (got "0")');
    expect(usage(["--dataset", "wdbc", "--admin-token", "short"])).toBe("--admin-token: must be at least 16 characters");
    expect(usage(["--dataset", "wdbc"], { CONSILIUM_ADMIN_TOKEN: "short" })).toBe("CONSILIUM_ADMIN_TOKEN: must be at least 16 characters");
    expect(usage(["--dataset", "wdbc", "--s3-endpoint", "s3.local"])).toBe('--s3-endpoint: expected an http(s) URL such as http://127.0.0.1:8787 (got "s3.local")');
    expect(usage(["--dataset", "wdbc", "--host", "0.0.0.0"])).toBe("--public-url: required with a wildcard --host: the origin sites reach this machine at, e.g. http://192.0.2.10:8787; presigned URLs name it");
    expect(usage(["--dataset", "wdbc", "--public-url", "https://coordinator.example.org/consilium"])).toBe("--public-url: give an origin such as https://coordinator.example.org:8787, with no path");
    expect(usage(["--dataset", "wdbc", "--public-url", "ftp://x"])).toBe('--public-url: expected an http(s) URL such as http://127.0.0.1:8787 (got "ftp://x")');
    expect(usage(["--dataset", "wdbc", "--s3-endpoint", "http://127.0.0.1:4566", "--bucket", "b", "--queue-url", "http://127.0.0.1:4566/000000000000/jobs"])).toBe("--admin-token (or CONSILIUM_ADMIN_TOKEN): required with --s3-endpoint: no data folder keeps a generated one");
    expect(usage(["--dataset", "wdbc", "--s3-endpoint", "http://127.0.0.1:4566", "--bucket", "b", "--queue-url", "http://127.0.0.1:4566/000000000000/jobs", "--data-dir", "d"], { CONSILIUM_ADMIN_TOKEN: TOKEN })).toBe("--data-dir and --public-url go with the embedded store; with --s3-endpoint the state and the sites' downloads are that store's");
    expect(usage(["--dataset", "wdbc", "--federation", "f.json"])).toBe("give one of --federation FILE.json, --dataset NAME or --cdm FILE.json");
    expect(usage(["--dataset", "wdbc", "--cdm", "cdm.json"])).toBe("give one of --federation FILE.json, --dataset NAME or --cdm FILE.json");
    expect(usage(["--federation", "f.json", "--sites", "3"])).toBe("--rounds, --sites and --secure-aggregation go with --dataset or --cdm; a --federation file sets its own");
    expect(usage(["--federation", "f.json", "--secure-aggregation"])).toBe("--rounds, --sites and --secure-aggregation go with --dataset or --cdm; a --federation file sets its own");
    expect(usage(["--dataset", "wdbc", "--bucket", "b"])).toBe("--s3-endpoint, --bucket and --queue-url go together");
    expect(usage(["--dataset", "wdbc", "--region", "eu-west-1"])).toBe("--region goes with --s3-endpoint");
    expect(usage(["--dataset", "wdbc", "--sites"])).toBe("--sites: needs a value");
  });
});

describe("consilium coordinator: the federation it creates", () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-coordinator-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("takes a dataset's recipe, with --rounds and --sites", async () => {
    // Execute
    const { config, note } = await federationFromDataset("heart-disease", { rounds: 2, sites: 2 });
    // Assert
    expect(note).toBeUndefined();
    expect(config).toMatchObject({
      id: "heart-disease", features: heartDiseaseSpec, model: parseModelSpec(defaultRecipe.model), training: defaultRecipe.training,
      rounds: 2, expectedSites: 2, strategy: defaultRecipe.strategy, codec: "float32",
    });
    expect((await federationFromDataset("wdbc", {})).config.expectedSites).toBe(4);
    const secure = await federationFromDataset("heart-disease", { secure: true });
    expect(secure.config).toMatchObject({ strategy: "fedavg", secureAggregation: { phaseSeconds: 60, clip: 10 } });
    expect(secure.note).toMatch(/^strategy fedavg instead of the recipe's scaffold: secure aggregation gives the coordinator only the sum of the updates: scaffold needs each update/);
  });

  it("reads a FederationConfig file and names the flag, the file and the field when it is wrong", async () => {
    // Prepare
    const good = (await federationFromDataset("heart-disease", {})).config;
    const file = join(dir, "federation.json");
    const bad = join(dir, "bad.json");
    const refused = join(dir, "refused.json");
    await writeFile(file, JSON.stringify({ ...good, id: "consortium" }));
    await writeFile(bad, JSON.stringify({ ...good, rounds: 0 }));
    await writeFile(refused, JSON.stringify({ ...good, async: { bufferSize: 2, maxStaleness: 3 } }));
    // Execute / Assert
    expect((await federationFromFile(file)).id).toBe("consortium");
    await expect(federationFromFile(bad)).rejects.toThrow(`--federation: ${bad}: rounds: Too small: expected number to be >=1`);
    // A file says everything itself: what the coordinator would refuse is refused before it starts.
    await expect(federationFromFile(refused)).rejects.toThrow(`--federation: ${refused}: asynchronous rounds cannot be used with scaffold: its control variates assume every update starts from the round's model`);
    await expect(federationFromFile(join(dir, "none.json"))).rejects.toThrow(UsageError);
    await expect(federationFromFile(join(dir, "none.json"))).rejects.toThrow(/^--federation: cannot read .*none\.json: ENOENT/);
  });
});

describe("consilium coordinator: serving from a data folder", () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-serving-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("prints its URL, its data folder and a generated admin token once, serves, and stops cleanly when the signal aborts", async () => {
    // Prepare
    const io = memoryIo();
    const controller = new AbortController();
    const data = join(dir, "serving");
    // Execute
    const c = await coordinatorCommand(["--dataset", "wdbc", "--port", "0", "--sites", "2", "--data-dir", data], { signal: controller.signal, io });
    const status = await new AdminClient(c.url, c.adminToken).status();
    controller.abort();
    await c.closed;
    // Assert
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(io.errLines).toEqual([
      `coordinator listening on ${c.url} (federation wdbc created; embedded store in ${data}, served at ${c.url}/store; admin token generated, below; audit checkpoints unsigned: --audit-key signs them)`,
      `admin token ${c.adminToken} (kept owner-only in ${join(data, "admin-token")}; not shown again)`,
      `dashboard: ${c.url}/dashboard (sign in with an operator's credential or the admin token)`,
    ]);
    expect(c.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(status).toMatchObject({ federation: "wdbc", state: { phase: "stats" } });
    await expect(fetch(c.url)).rejects.toThrow();
  });

  it("carries on the same federation when started again on the folder: sites, their credentials and the admin token", async () => {
    // Prepare
    const data = join(dir, "restart");
    const flags = ["--dataset", "heart-disease", "--sites", "2", "--port", "0", "--data-dir", data];
    const first = await coordinatorCommand(flags, { io: memoryIo() });
    const enrolled = await new AdminClient(first.url, first.adminToken).enrol("Basel");
    await first.stop();
    // Execute
    const io = memoryIo();
    const second = await coordinatorCommand(flags, { io });
    const status = await new AdminClient(second.url, first.adminToken).status();
    const task = await new CoordinatorClient(second.url, enrolled.token).task();
    await second.stop();
    const third = await coordinatorCommand(["--port", "0", "--data-dir", data, "--dataset", "heart-disease", "--rounds", "9"], { io });
    await third.stop();
    // Assert
    expect([second.created, second.federation, second.adminToken]).toEqual([false, "heart-disease", first.adminToken]);
    expect(io.errLines[0]).toBe(`coordinator listening on ${second.url} (federation heart-disease already in the store; embedded store in ${data}, served at ${second.url}/store; admin token in ${join(data, "admin-token")}; audit checkpoints unsigned: --audit-key signs them)`);
    expect(io.errLines.some((l) => l.includes(first.adminToken))).toBe(false);
    expect(status.sites.map((s) => s.name)).toEqual(["Basel"]);
    expect(task.kind).toBe("stats");
    expect(io.errLines).toContain("warn the store holds this federation already and serves it as it is: the federation flags given differ from it and are not applied");
  });

  it("refuses to start on a folder holding no federation without one to create, and on a folder in use", async () => {
    // Prepare
    const data = join(dir, "in-use");
    const running = await coordinatorCommand(["--dataset", "wdbc", "--port", "0", "--data-dir", data], { io: memoryIo() });
    try {
      // Execute / Assert
      await expect(coordinatorCommand(["--port", "0", "--data-dir", join(dir, "empty")], { io: memoryIo() })).rejects.toThrow(`give --federation FILE.json, --dataset NAME or --cdm FILE.json: ${join(dir, "empty")} holds no federation yet`);
      await expect(coordinatorCommand(["--port", "0", "--data-dir", data], { io: memoryIo() })).rejects.toThrow(new RegExp(`^--data-dir: ${data} is in use by process ${process.pid} \\(.*\\) on host .* since \\S+, which is still running: one coordinator per data folder`));
    } finally {
      await running.stop();
    }
  });

  it("names the --public-url origin in the store's address, for sites on other machines", async () => {
    // Prepare
    const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: TOKEN });
    // Execute
    const c = await coordinatorCommand(["--dataset", "wdbc", "--port", "0", "--data-dir", join(dir, "public"), "--public-url", "https://coordinator.example.org"], { io });
    const status = await new AdminClient(c.url, TOKEN).status();
    await c.stop();
    // Assert
    expect(io.errLines).toEqual([
      `coordinator listening on ${c.url} (federation wdbc created; embedded store in ${join(dir, "public")}, served at https://coordinator.example.org/store; admin token as given; audit checkpoints unsigned: --audit-key signs them)`,
      "dashboard: https://coordinator.example.org/dashboard (sign in with an operator's credential or the admin token)",
    ]);
    expect(status.federation).toBe("wdbc");
  });
});

describe("consilium coordinator: its address", () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-address-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("refuses a port in use and a host that is not this machine's, before starting anything", async () => {
    // Prepare
    const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: TOKEN });
    const first = await coordinatorCommand(["--dataset", "wdbc", "--port", "0", "--data-dir", join(dir, "a")], { io });
    const port = new URL(first.url).port;
    try {
      // Execute / Assert
      await expect(coordinatorCommand(["--dataset", "wdbc", "--port", port, "--data-dir", join(dir, "b")], { io })).rejects.toThrow(`--port: 127.0.0.1:${port} is already in use`);
      await expect(coordinatorCommand(["--dataset", "wdbc", "--port", "0", "--host", "192.0.2.1", "--data-dir", join(dir, "b")], { io })).rejects.toThrow("--host: 192.0.2.1 is not an address of this machine");
    } finally {
      await first.stop();
    }
  });
});

describe("consilium coordinator: on S3/SQS endpoints", () => {
  let stack: EmbeddedStack;
  // The admin token through the environment, as an operator passes it (a flag is warned about).
  const s3Flags = () => ["--port", "0", "--s3-endpoint", stack.endpoint, "--bucket", stack.bucket, "--queue-url", stack.queueUrl, "--region", stack.region];
  beforeAll(async () => {
    stack = await startEmbeddedStack();
    vi.stubEnv("AWS_ACCESS_KEY_ID", stack.credentials.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", stack.credentials.secretAccessKey);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await stack.stop();
  });

  it("refuses an empty store without --dataset or --federation", async () => {
    await expect(coordinatorCommand(s3Flags(), { io: memoryIo({ CONSILIUM_ADMIN_TOKEN: TOKEN }) })).rejects.toThrow("give --federation FILE.json, --dataset NAME or --cdm FILE.json: the store holds no federation yet");
  });

  it("creates the federation in the bucket once, then serves the one it finds", async () => {
    // Execute
    const io = memoryIo({ CONSILIUM_ADMIN_TOKEN: TOKEN });
    const first = await coordinatorCommand([...s3Flags(), "--dataset", "heart-disease", "--sites", "2"], { io });
    await new AdminClient(first.url, TOKEN).enrol("Basel");
    await first.stop();
    const second = await coordinatorCommand([...s3Flags(), "--dataset", "wdbc"], { io });
    const status = await new AdminClient(second.url, TOKEN).status();
    await second.stop();
    const third = await coordinatorCommand(s3Flags(), { io });
    await third.stop();
    // Assert
    expect(first.created).toBe(true);
    expect([second.created, second.federation, third.created, third.federation]).toEqual([false, "heart-disease", false, "heart-disease"]);
    expect(status.sites.map((s) => s.name)).toEqual(["Basel"]);
    expect(io.errLines[0]).toBe(`coordinator listening on ${first.url} (federation heart-disease created; s3 ${stack.endpoint} bucket consilium; admin token as given; audit checkpoints unsigned: --audit-key signs them)`);
    expect(io.errLines[4]).toBe("warn the store holds this federation already and serves it as it is: the federation flags given differ from it and are not applied");
    expect(io.errLines).toHaveLength(7);
    expect(await stack.store.get("runs/000001/federation.json")).not.toBeNull();
    expect(await stack.store.get("consortium/config.json")).not.toBeNull();
  });
});
