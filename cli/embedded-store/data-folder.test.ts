import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { S3ObjectStore } from "../../functions/adapters/s3-object-store.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../embedded-stack.ts";

const MiB = 1024 * 1024;
const text = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid ?? 0;
}

describe("startEmbeddedStack on a data folder", () => {
  let dir: string;
  const started: EmbeddedStack[] = [];
  const start = async (port = 0) => {
    const stack = await startEmbeddedStack({ dataDir: dir, port });
    started.push(stack);
    return stack;
  };
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "consilium-store-")), "coordinator");
  });
  afterEach(async () => {
    for (const stack of started.splice(0)) await stack.stop();
    await rm(join(dir, ".."), { recursive: true, force: true });
  });

  it("keeps objects, open multipart uploads, queued jobs and its key across a restart", async () => {
    // Prepare
    const first = await start();
    const port = Number(new URL(first.endpoint).port);
    await first.store.put("sites/site-01.json", '{"name":"Basel"}');
    await first.store.put("models/000001/weights.bin", new Uint8Array([1, 2, 3]));
    const url = await first.store.presignGet("models/000001/weights.bin", 600);
    const upload = await first.store.presignMultipart("rounds/000001/updates/site-01.bin", 600, 5 * MiB + 1, 5 * MiB);
    await first.queue.send('{"type":"aggregate","round":1}');
    await first.queue.send('{"type":"aggregate","round":2}');
    // Received and never deleted: the process holding it stops (or dies) before settling it.
    const received = await first.sqs.send(new ReceiveMessageCommand({ QueueUrl: first.queueUrl, MaxNumberOfMessages: 1 }));
    await first.stop();
    // Execute
    const second = await start(port);
    const parts = [];
    for (const { partNumber, url: partUrl } of upload.parts) {
      const res = await fetch(partUrl, { method: "PUT", body: new Uint8Array(partNumber === 1 ? 5 * MiB : 1) });
      parts.push({ partNumber, etag: res.headers.get("etag") ?? "" });
    }
    await second.store.completeMultipart("rounds/000001/updates/site-01.bin", upload.uploadId, parts);
    const again = await second.sqs.send(new ReceiveMessageCommand({ QueueUrl: second.queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
    // Assert
    expect(received.Messages?.map((m) => m.Body)).toEqual(['{"type":"aggregate","round":1}']);
    expect(text(await second.store.get("sites/site-01.json"))).toBe('{"name":"Basel"}');
    expect(await second.store.list("")).toEqual(["models/000001/weights.bin", "rounds/000001/updates/site-01.bin", "sites/site-01.json"]);
    expect(second.credentials).toEqual(first.credentials);
    expect(new Uint8Array(await (await fetch(url)).arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    expect(await second.store.head("rounds/000001/updates/site-01.bin")).toBe(5 * MiB + 1);
    expect(again.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
      ['{"type":"aggregate","round":1}', "2"],
      ['{"type":"aggregate","round":2}', "1"],
    ]);
  });

  it("is owner-only: the folder 0700, the key and every object 0600", async () => {
    // Prepare
    const stack = await start();
    await stack.store.put("federation.json", "{}");
    // Execute
    const objects = join(dir, "store", "buckets", stack.bucket, "objects");
    const modes = [await mode(dir), await mode(join(dir, "store-credentials.json")), ...(await Promise.all((await readdir(objects)).map((f) => mode(join(objects, f)))))];
    // Assert
    expect(modes).toEqual([0o700, 0o600, 0o600]);
  });

  it("refuses a second process on the folder while the first runs, and takes it over after a crash", async () => {
    // Prepare
    const first = await start();
    // Execute
    const refused = await startEmbeddedStack({ dataDir: dir }).then(() => null, (error: { code?: string; message: string }) => [error.code, error.message]);
    await first.stop();
    await writeFile(join(dir, "lock"), JSON.stringify({ pid: await deadPid(), token: "left by kill -9" }));
    await writeFile(join(dir, "store", "tmp", "half-written.tmp"), "torn");
    const second = await start();
    await second.stop();
    // A lock naming this very pid, which this process does not hold (a container restarted under the
    // same pid), and one from an earlier boot of the machine, are stale too.
    await writeFile(join(dir, "lock"), JSON.stringify({ pid: process.pid, token: "same pid, earlier process" }));
    const samePid = await start();
    await samePid.stop();
    await writeFile(join(dir, "lock"), JSON.stringify({ pid: 1, boot: "an-earlier-boot", token: "before a power cut" }));
    const rebooted = await start();
    // Assert
    expect(refused?.[0]).toBe("DATA_DIR_IN_USE");
    expect(refused?.[1]).toMatch(new RegExp(`^${dir} is in use by process ${process.pid} \\(.*\\) on host .* since .*, which is still running: one coordinator per data folder \\(if pid ${process.pid} is some other program now, delete ${join(dir, "lock")}\\)$`));
    expect([second.bucket, samePid.bucket, rebooted.bucket]).toEqual(["consilium", "consilium", "consilium"]);
    expect(await readdir(join(dir, "store", "tmp"))).toEqual([]);
  });

  it("writes a conditional object once, whichever of many writers gets there first, and pages listings", async () => {
    // Prepare
    const stack = await start();
    const paged = new S3ObjectStore({ client: stack.s3, bucket: stack.bucket, listPageSize: 2 });
    // Execute
    const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => stack.store.put("rounds/000001/included.json", `writer ${i}`, { ifAbsent: true })));
    for (const key of ["audit/e.json", "audit/c.json", "audit/a.json", "audit/d.json", "audit/b.json", "audit ü/x.json"]) await stack.store.put(key, "{}");
    // Assert
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(text(await stack.store.get("rounds/000001/included.json"))).toBe(`writer ${wins.indexOf(true)}`);
    expect(await paged.list("audit/")).toEqual(["audit/a.json", "audit/b.json", "audit/c.json", "audit/d.json", "audit/e.json"]);
    expect(await paged.list("audit ")).toEqual(["audit ü/x.json"]);
  });
});
