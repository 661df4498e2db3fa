import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Harness } from "../../test/support/coordinator.ts";
import { harnessFetch, usageOf } from "../../test/support/cli.ts";
import { checkBackends, checkCoordinator, checkDisk, checkNode, checkStateDir, explainBackend, type Finding } from "../doctor.ts";
import { doctorCommand, doctorSpec } from "./doctor-command.ts";
import { memoryIo } from "./flags.ts";

const DAY = 86_400_000;
const URL_ = "http://coordinator.test";

describe("consilium doctor's checks", () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-doctor-"))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("judges the Node.js version against the package's engines and its support", () => {
    expect(checkNode("20.18.3")).toMatchObject({ verdict: "fail", remedy: expect.stringContaining("Node.js 22") });
    expect(checkNode("18.20.0").verdict).toBe("fail");
    expect(checkNode("20.19.0")).toMatchObject({ verdict: "warn", detail: expect.stringContaining("end of life") });
    expect(checkNode("22.11.0").verdict).toBe("ok");
    expect(checkNode("24.1.0").verdict).toBe("ok");
  });

  it("says why a native backend does not load, and what to do, from the loader's own error", () => {
    const missing = explainBackend("tfjs-node", "Cannot find package '@tensorflow/tfjs-node' imported from /app/gpu-runner/model/backend.ts", false);
    expect(missing.detail).toMatch(/not installed.*libtensorflow/);
    expect(missing.remedy).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    expect(explainBackend("tfjs-node-gpu", "Cannot find package '@tensorflow/tfjs-node-gpu'", false).detail).toMatch(/no NVIDIA device/);
    const cuda = explainBackend("tfjs-node-gpu", "libcudart.so.11.0: cannot open shared object file: No such file or directory", true);
    expect(cuda.detail).toMatch(/CUDA libraries it links are missing: libcudart/);
    expect(cuda.remedy).toMatch(/CUDA 11\.2 and cuDNN 8\.1/);
    expect(explainBackend("tfjs-node", "libtensorflow.so.2: cannot open shared object file", false).remedy).toMatch(/npm rebuild @tensorflow\/tfjs-node/);
  });

  it("loads every backend it can here and measures each one's training, naming the reason for each that does not load", async () => {
    const findings = await checkBackends(0.1);
    expect(findings.map((f) => f.check)).toEqual(["backend tfjs-node-gpu", "backend tfjs-node", "backend wasm", "backend cpu"]);
    for (const f of findings) {
      if (f.verdict === "ok") expect(f.examplesPerSecond, f.check).toBeGreaterThan(0);
      else expect(f.remedy, f.check).toBeTruthy();
    }
    // The pure-JavaScript backend loads wherever Node.js runs.
    expect(findings.at(-1)).toMatchObject({ verdict: "ok", detail: expect.stringMatching(/trains mlp:64 at [\d,]+ examples\/s/) });
  });

  it("checks the coordinator with the site's credential: which one, its expiry, the clocks' skew", async () => {
    const h = new Harness();
    await h.startTraining();
    const soon = (await h.admin("POST", "/v1/admin/sites", { name: "Bern", expiresInDays: 7 })).body as { siteId: string; token: string };
    const later = (await h.admin("POST", "/v1/admin/sites", { name: "Basel", expiresInDays: 365 })).body as { siteId: string; token: string };
    const coordinatorNow = () => h.root.clock.now();
    const fine = await checkCoordinator(URL_, later.token, harnessFetch(h), coordinatorNow);
    expect(fine.map((f) => [f.check, f.verdict])).toEqual([["coordinator", "ok"], ["credential expiry", "ok"], ["clock", "ok"]]);
    expect(fine[0]!.detail).toContain(`site ${later.siteId} (Basel), generation 0`);
    const expiring = await checkCoordinator(URL_, soon.token, harnessFetch(h), coordinatorNow);
    expect(expiring[1]).toMatchObject({ verdict: "warn", remedy: `ask the consortium's operator to rotate it (consilium sites rotate ${soon.siteId})` });
    // This machine's clock two days ahead of the coordinator's, then forty seconds behind.
    expect((await checkCoordinator(URL_, later.token, harnessFetch(h), () => coordinatorNow() + 2 * DAY))[2]).toMatchObject({ verdict: "fail", detail: expect.stringMatching(/^this machine's clock is 172800\.0 s ahead of .*HTTPS certificates/) });
    expect((await checkCoordinator(URL_, later.token, harnessFetch(h), () => coordinatorNow() - 40_000))[2]).toMatchObject({ verdict: "warn", detail: expect.stringMatching(/40\.0 s behind.*audit trail/) });
    // A URL that answers, but not as a coordinator (no such route): said as such, not as unreachable.
    const notFound = (async () => new Response(JSON.stringify({ error: { code: "NOT_FOUND", message: "no route GET /v1/credential" } }), { status: 404, headers: { "content-type": "application/json" } })) as unknown as typeof fetch;
    expect(await checkCoordinator(URL_, later.token, notFound, coordinatorNow)).toEqual([expect.objectContaining({ verdict: "fail", detail: expect.stringContaining("answered, but not as a coordinator") })]);
    expect(await checkCoordinator(URL_, `${later.token}x`, harnessFetch(h), coordinatorNow)).toEqual([expect.objectContaining({ verdict: "fail", remedy: expect.stringContaining("CONSILIUM_SITE_TOKEN") })]);
    h.root.clock.advance(8 * DAY);
    expect(await checkCoordinator(URL_, soon.token, harnessFetch(h), coordinatorNow)).toEqual([expect.objectContaining({ verdict: "fail", detail: expect.stringContaining("expired at"), remedy: expect.stringContaining("consilium sites rotate") })]);
    const refused = (async () => {
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }) });
    }) as unknown as typeof fetch;
    const unreachable = await checkCoordinator("http://127.0.0.1:9", later.token, refused, coordinatorNow, 200);
    expect(unreachable).toEqual([expect.objectContaining({ verdict: "fail", detail: expect.stringMatching(/^cannot reach http:\/\/127\.0\.0\.1:9/), remedy: expect.stringContaining("firewall") })]);
    expect(await checkCoordinator(undefined, undefined)).toEqual([expect.objectContaining({ verdict: "skipped" })]);
  });

  it("checks the state folder: to be created, private, readable by others, not a folder", async () => {
    expect(await checkStateDir(join(dir, "new", "site-01"))).toMatchObject({ verdict: "ok", detail: expect.stringContaining("does not exist yet") });
    const open = join(dir, "open");
    await mkdir(open);
    await chmod(open, 0o755);
    expect(await checkStateDir(open)).toMatchObject({ verdict: "warn", remedy: `chmod 700 ${open}` });
    await chmod(open, 0o700);
    expect(await checkStateDir(open)).toMatchObject({ verdict: "ok", detail: expect.stringContaining("mode 700") });
    const file = join(dir, "file");
    await writeFile(file, "");
    expect((await checkStateDir(file)).verdict).toBe("fail");
  });

  it("checks the free disk against what a site writes", async () => {
    const GiB = 2 ** 30;
    expect((await checkDisk(dir, async () => 50 * GiB)).verdict).toBe("ok");
    expect((await checkDisk(dir, async () => 0.5 * GiB)).verdict).toBe("warn");
    expect((await checkDisk(dir, async () => 0.05 * GiB)).verdict).toBe("fail");
    expect((await checkDisk(join(dir, "not", "yet"))).detail).toContain(`free at ${dir}`);
  });
});

describe("consilium doctor", () => {
  const stub = (verdict: Finding["verdict"]) => async (): Promise<Finding[]> => [{ check: "backend cpu", verdict, detail: "stubbed", ...(verdict !== "ok" && { remedy: "stub remedy" }) }];

  it("prints each finding and the remedies, and exits 1 only when a check fails", async () => {
    const dir = await mkdtemp(join(tmpdir(), "consilium-doctor-"));
    try {
      const io = memoryIo({});
      expect(await doctorCommand(["--state-dir", dir], { io, checkBackends: stub("ok") })).toBe(0);
      expect(io.outLines.join("\n")).toMatch(/skipped coordinator: give --coordinator URL/);
      expect(io.outLines.at(-1)).toMatch(/^ready to run a site/);
      const failing = memoryIo({});
      expect(await doctorCommand(["--state-dir", dir, "--json"], { io: failing, checkBackends: stub("fail") })).toBe(1);
      const json = JSON.parse(failing.outLines.join("\n")) as { findings: Finding[]; failed: number };
      expect(json.failed).toBe(1);
      expect(json.findings.map((f) => f.check)).toEqual(["node", "backend cpu", "coordinator", "state folder", "disk"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("checks the coordinator with the credential from the environment, and prints no credential", async () => {
    const h = new Harness();
    await h.startTraining();
    const site = (await h.admin("POST", "/v1/admin/sites", { name: "Bern" })).body as { siteId: string; token: string };
    const io = memoryIo({ CONSILIUM_SITE_TOKEN: site.token });
    const dir = await mkdtemp(join(tmpdir(), "consilium-doctor-"));
    try {
      expect(await doctorCommand(["--coordinator", URL_, "--state-dir", dir, "--json"], { io, fetch: harnessFetch(h), now: () => h.root.clock.now(), checkBackends: stub("ok") })).toBe(0);
      const json = JSON.parse(io.outLines.join("\n")) as { findings: Finding[] };
      expect(json.findings.find((f) => f.check === "coordinator")?.detail).toContain(`site ${site.siteId} (Bern)`);
      expect(io.outLines.join("\n")).not.toContain(site.token);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(usageOf(doctorSpec, ["--seconds", "0"])).toMatch(/--seconds: expected a number of seconds from 0\.1 to 60/);
    expect(usageOf(doctorSpec, [], { CONSILIUM_SITE_TOKEN: "not-a-credential" })).toMatch(/^CONSILIUM_SITE_TOKEN: expected a site credential/);
  });
});
