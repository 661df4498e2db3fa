import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadPid, holdInChild } from "../../test/support/lock-holder.ts";
import { commandLine, folderHolder, lockFolder, type LockHolder } from "./folder-lock.ts";

const RULE = "one site runner per state folder";

const stale = (patch: Partial<LockHolder>): string =>
  JSON.stringify({ pid: 1, host: hostname(), since: "2025-05-01T10:00:00.000Z", command: "consilium site --dataset-site heart-disease:va", token: "t", ...patch });

describe("lockFolder", () => {
  let root: string;
  let n = 0;
  const folder = async () => {
    const dir = join(root, `f${++n}`);
    await mkdir(dir);
    return dir;
  };
  beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), "consilium-lock-"))));
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("is held by one process at a time, and refuses another naming the holder's pid, host, start and command", async () => {
    // Prepare
    const dir = await folder();
    const child = await holdInChild(dir, ["site", "--token", "cs_zurich-0a1b2c_s3cr3t", "--data", "a.csv"]);
    try {
      // Execute
      const refused = await lockFolder(dir, { rule: RULE }).then(() => null, (e: { code: string; message: string }) => e);
      const seen = await folderHolder(dir);
      // Assert
      expect(refused?.code).toBe("FOLDER_IN_USE");
      expect(refused?.message).toMatch(new RegExp(
        `^${dir} is in use by process ${child.pid} \\(consilium site --token \\*\\*\\* --data a\\.csv\\) on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z, ` +
          `which is still running: ${RULE} \\(if pid ${child.pid} is some other program now, delete ${join(dir, "lock")}\\)$`,
      ));
      expect(seen?.holder.pid).toBe(child.pid);
      expect(seen?.stale).toBe(false);
    } finally {
      await child.stop();
    }
    // A kill -9 leaves the lock; the next taker finds it stale.
    const after = await lockFolder(dir, { rule: RULE });
    await after.release();
    expect(after.tookOver).toMatch(new RegExp(`^took over the lock of ${dir} from process ${child.pid} \\(consilium site --token \\*\\*\\* --data a\\.csv\\) on host ${hostname()} since \\S+Z: process ${child.pid} is no longer running$`));
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a second holder in this process too, and lets go on release", async () => {
    // Prepare
    const dir = await folder();
    const first = await lockFolder(dir, { rule: RULE, command: "consilium site" });
    // Execute
    const second = await lockFolder(dir, { rule: RULE }).then(() => "taken", (e: Error) => e.message);
    await first.release();
    await first.release();
    const third = await lockFolder(dir, { rule: RULE });
    // Assert
    expect(second).toMatch(new RegExp(`^${dir} is in use by process ${process.pid} \\(consilium site\\) on host `));
    expect(third.tookOver).toBeNull();
    await third.release();
  });

  it("takes over a lock whose process is gone, from an earlier boot, or naming this pid without this process holding it, saying whose", async () => {
    // Prepare
    const dir = await folder();
    const pid = await deadPid();
    const cases = [
      [stale({ pid }), `process ${pid} is no longer running`],
      [stale({ pid: 1, boot: "an-earlier-boot" }), "it was taken before this machine last booted"],
      [stale({ pid: process.pid }), "it names this process's pid, which an earlier process had (a restart under the same pid)"],
      ["{torn", "it could not be read"],
    ] as const;
    const warnings: (string | null)[] = [];
    for (const [lock] of cases) {
      await writeFile(join(dir, "lock"), lock);
      // Execute
      const taken = await lockFolder(dir, { rule: RULE });
      warnings.push(taken.tookOver);
      await taken.release();
    }
    // Assert
    const whose = (p: number) => `process ${p} (consilium site --dataset-site heart-disease:va) on host ${hostname()} since 2025-05-01T10:00:00.000Z`;
    expect(warnings).toEqual([
      `took over the lock of ${dir} from ${whose(pid)}: ${cases[0][1]}`,
      `took over the lock of ${dir} from ${whose(1)}: ${cases[1][1]}`,
      `took over the lock of ${dir} from ${whose(process.pid)}: ${cases[2][1]}`,
      `took over the lock of ${dir} from an unreadable lock file: ${cases[3][1]}`,
    ]);
  });

  it("never takes over another host's lock, whose process cannot be seen from here", async () => {
    // Prepare
    const dir = await folder();
    await writeFile(join(dir, "lock"), stale({ pid: await deadPid(), host: "ward-7", boot: "another-machine" }));
    // Execute
    const refused = await lockFolder(dir, { rule: RULE }).then(() => "taken", (e: Error) => e.message);
    // Assert
    expect(refused).toBe(
      `${dir} is in use by process ${JSON.parse(await readFile(join(dir, "lock"), "utf8")).pid} (consilium site --dataset-site heart-disease:va) on host ward-7 since 2025-05-01T10:00:00.000Z, ` +
        `which cannot be seen from this host (${hostname()}): ${RULE} (if that process is gone, delete ${join(dir, "lock")})`,
    );
  });

  it("lets exactly one of many takers have a stale lock", async () => {
    // Prepare
    const dir = await folder();
    await writeFile(join(dir, "lock"), stale({ pid: await deadPid() }));
    // Execute
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => lockFolder(dir, { rule: RULE })));
    // Assert
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => (o.reason as { code: string }).code)).toEqual(Array(7).fill("FOLDER_IN_USE"));
    await won[0]?.value.release();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("commandLine", () => {
  it("names the script and masks credentials", () => {
    expect(commandLine(["/usr/bin/node", "/opt/consilium/bin/consilium.mjs", "site", "--token", "cs_a-1_xyz", "--admin-token=abc", "--data", "a.csv"])).toBe(
      "consilium site --token *** --admin-token=*** --data a.csv",
    );
    expect(commandLine(["node", "x.ts", "--coordinator", "http://h", "cs_site-01_s3cr3t"])).toBe("x --coordinator http://h cs_site-01_***");
  });
});
