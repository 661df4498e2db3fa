/**
 * @module
 * Other processes for the folder lock's tests: one that holds a lock until killed, one that is gone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The pid of a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid ?? 0;
}

/** Another process holding `dir`'s lock until killed, started as `consilium <args>` is (its script is named consilium.mjs). */
export async function holdInChild(dir: string, args: readonly string[]): Promise<ChildProcess & { stop(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), "consilium-holder-"));
  const script = join(home, "consilium.mjs");
  const lock = new URL("../../gpu-runner/session/folder-lock.ts", import.meta.url).href;
  await writeFile(script, `import { lockFolder } from ${JSON.stringify(lock)};
    await lockFolder(${JSON.stringify(dir)}, { rule: "held by a test" });
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);`);
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  const exited = new Promise((r) => child.once("exit", r));
  return Object.assign(child, {
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
      await rm(home, { recursive: true, force: true });
    },
  });
}
