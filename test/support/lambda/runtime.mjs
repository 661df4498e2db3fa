// One Lambda execution environment of the harness (harness.ts): a Node.js process that loads a
// bundle as Lambda's Node.js runtime does (its folder as the working directory, `/var/task`),
// then answers invocations one at a time over IPC. Plain JavaScript, run by plain `node`: the
// bundle must stand on its own, as it does on Lambda.
//
// Lambda's file system is read-only but for /tmp: every write, create, rename or delete through
// `node:fs` outside /tmp (or inside the bundle's folder, `/var/task` there) fails here with EROFS, as there, and is reported to the harness as a
// broken limit even when the handler catches the error.
//
// argv: the bundle's path, the export to call, the function's name, its memory (MB) and timeout (s).
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [bundle, exportName, functionName, memoryMb] = process.argv.slice(2);

const TASK_ROOT = process.cwd();

function report(message) {
  process.send?.({ type: "violation", message });
}

function pathOf(p) {
  if (typeof p === "string") return p;
  if (p instanceof URL) return fileURLToPath(p);
  if (Buffer.isBuffer(p)) return p.toString("utf8");
  return null; // a file descriptor: opened (and checked) before
}

function check(op, p) {
  const s = pathOf(p);
  if (s === null) return;
  const abs = resolve(s);
  // The bundle's folder is Lambda's /var/task, read-only, even when the harness keeps it under /tmp.
  const inTask = abs === TASK_ROOT || abs.startsWith(`${TASK_ROOT}/`);
  if (!inTask && (abs === "/tmp" || abs.startsWith("/tmp/"))) return;
  const message = `${functionName}: ${op} ${abs}: Lambda's file system is read-only outside /tmp`;
  report(message);
  const error = new Error(`EROFS: read-only file system, ${op} '${abs}'`);
  error.code = "EROFS";
  throw error;
}

const writes = (flags) =>
  typeof flags === "number"
    ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND)) !== 0
    : typeof flags === "string" && /[wa+]/.test(flags);

// Methods whose first argument is a path they write; for rename, copy and links the second too.
const FIRST = ["writeFile", "appendFile", "mkdir", "mkdtemp", "rm", "rmdir", "unlink", "truncate", "chmod", "chown", "lchown", "utimes", "lutimes"];
const SECOND = ["rename", "copyFile", "cp", "symlink", "link"];

function guard(target, name, wrap) {
  const original = target[name];
  if (typeof original !== "function") return;
  target[name] = wrap(original);
}

for (const suffix of ["", "Sync"]) {
  for (const base of FIRST) guard(fs, base + suffix, (f) => function (p, ...rest) { check(base, p); return f.call(this, p, ...rest); });
  for (const base of SECOND) guard(fs, base + suffix, (f) => function (a, b, ...rest) { check(base, base === "rename" ? a : b); check(base, b); return f.call(this, a, b, ...rest); });
  guard(fs, "open" + suffix, (f) => function (p, flags, ...rest) { if (writes(flags)) check("open", p); return f.call(this, p, flags, ...rest); });
}
for (const base of FIRST) guard(fs.promises, base, (f) => function (p, ...rest) { check(base, p); return f.call(this, p, ...rest); });
for (const base of SECOND) guard(fs.promises, base, (f) => function (a, b, ...rest) { check(base, base === "rename" ? a : b); check(base, b); return f.call(this, a, b, ...rest); });
guard(fs.promises, "open", (f) => function (p, flags, ...rest) { if (writes(flags)) check("open", p); return f.call(this, p, flags, ...rest); });
guard(fs, "createWriteStream", (f) => function (p, ...rest) { check("createWriteStream", p); return f.call(this, p, ...rest); });
syncBuiltinESMExports();

// The environment's own peak resident memory: VmHWM of /proc/self/status, which exec resets.
// (getrusage's maxRSS is not it on Linux: a forked child keeps the parent's peak from before exec.)
const readFileSync = fs.readFileSync;
const maxRssMb = () => {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // Not Linux: the largest of what is resident now and was at earlier reports.
  }
  peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20);
  return peak;
};
let peak = 0;

let handler;
const initStarted = performance.now();
try {
  const module = await import(pathToFileURL(resolve(bundle)).href);
  handler = module[exportName];
  if (typeof handler !== "function") throw new Error(`${bundle} exports no function ${exportName}`);
} catch (error) {
  process.send?.({ type: "init-error", message: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exit(1);
}
process.send?.({ type: "ready", initMs: performance.now() - initStarted, maxRssMb: maxRssMb() });

process.on("message", async (message) => {
  if (message?.type !== "invoke") return;
  const { id, event, deadline } = message;
  const context = {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: memoryMb,
    awsRequestId: id,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `harness/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const started = performance.now();
  try {
    const result = await handler(JSON.parse(event), context);
    process.send?.({ type: "result", id, payload: result === undefined ? "null" : JSON.stringify(result), ms: performance.now() - started, maxRssMb: maxRssMb() });
  } catch (error) {
    process.send?.({
      type: "error", id, ms: performance.now() - started, maxRssMb: maxRssMb(),
      errorType: error instanceof Error ? error.name : "Error",
      errorMessage: error instanceof Error ? error.message : String(error),
    });
  }
});
