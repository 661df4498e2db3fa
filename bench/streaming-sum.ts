/**
 * @module
 * How fast and in how much memory the coordinator sums int8 updates, against numpy and this
 * machine's memory bandwidth measured in the same run:
 *
 * - memory copy: `Uint8Array.set` of as many bytes as the int8 updates hold (the bandwidth
 *   reference, bytes per second);
 * - the fused int8 decode-and-accumulate kernel (`core/sum`, WebAssembly SIMD) over every update,
 *   piece by piece as the coordinator drives it, and the same in plain JavaScript (its reference);
 * - the whole streaming mean (`streamingMean`): updates read as streams of 64 KiB chunks, copied
 *   into the arena, hashed (SHA-256), checked and summed, with the growth of resident memory;
 * - numpy's `np.average(stack, axis=0, weights=w)` over the same updates decoded to float32, with
 *   float64 weights (what a list of sample counts gives) and with float32 weights.
 *
 * Updates are valid int8 payloads (chunks of 256: a scale, then random codes). Each timing is the
 * median of the repeats after a warm-up; buffers are touched before timing.
 *
 *   npx tsx bench/streaming-sum.ts                       # 50 sites × 10,000,000 parameters
 *   BENCH_PARAMS=1000000 npx tsx bench/streaming-sum.ts  # a quick run
 */
import { spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CodecSpec } from "../core/codec/codec-spec.ts";
import { accumulateInt8Reference, SumArena } from "../core/sum/sum-arena.ts";
import { streamingMean, type UpdateSource } from "../core/sum/streaming-mean.ts";

const sites = Number(process.env.BENCH_SITES ?? 50);
const params = Number(process.env.BENCH_PARAMS ?? 10_000_000);
const repeats = Math.max(3, Number(process.env.BENCH_REPEATS ?? 5));
const CHUNK = 256;
const PIECE = 65_536;
const RECORD = 4 + CHUNK;
const payloadBytes = params + 4 * Math.ceil(params / CHUNK);
const totalBytes = sites * payloadBytes;
const weights = Array.from({ length: sites }, (_, s) => 50 + ((s * 37) % 200));
const total = weights.reduce((a, b) => a + b, 0);
const normalised = weights.map((w) => w / total);

function time(run: () => unknown, n = repeats): number {
  run();
  const seconds: number[] = [];
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    run();
    seconds.push((performance.now() - t) / 1000);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
}

async function timeAsync(run: () => Promise<unknown>, n = repeats): Promise<number> {
  await run();
  const seconds: number[] = [];
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    await run();
    seconds.push((performance.now() - t) / 1000);
  }
  return seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
}

// The updates, generated straight into the slots of an arena that holds them all (for the kernel alone).
const all = new SumArena(params, sites, payloadBytes);
for (let s = 0; s < sites; s++) {
  const slot = all.slot(s);
  randomFillSync(slot);
  const view = new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
  for (let at = 0; at < payloadBytes; at += RECORD) view.setFloat32(at, 1e-3 * (1 + (s % 7)), true);
}

// 1. Memory bandwidth.
const src = new Uint8Array(totalBytes).fill(1);
const dst = new Uint8Array(totalBytes).fill(2);
const copySeconds = time(() => dst.set(src));

// 2. The fused kernel, piece by piece across the sites as streamingMean drives it.
const kernelSeconds = time(() => {
  all.sum.fill(0);
  for (let start = 0, from = 0; start < params; start += PIECE) {
    const n = Math.min(PIECE, params - start);
    all.accumulateInt8Sites(0, normalised, n, CHUNK, start, from);
    from += n + 4 * Math.ceil(n / CHUNK);
  }
});
const kernelSum = all.sum.slice();

// 3. The kernel's JavaScript reference, same order (three repeats: it is slow).
const reference = new Float32Array(params);
const referenceSeconds = time(() => {
  reference.fill(0);
  for (let start = 0, from = 0; start < params; start += PIECE) {
    const n = Math.min(PIECE, params - start);
    const bytes = n + 4 * Math.ceil(n / CHUNK);
    for (let s = 0; s < sites; s++) accumulateInt8Reference(all.slot(s).subarray(from, from + bytes), n, CHUNK, reference, start, weights[s]! / total);
    from += bytes;
  }
}, 3);
const identical = Buffer.from(reference.buffer).equals(Buffer.from(kernelSum.buffer));

// 4. The whole streaming mean, from in-memory streams of 64 KiB chunks.
const header = (): Uint8Array => {
  const h = new Uint8Array(16);
  h.set([0x43, 0x4e, 0x53, 0x4c, 1, 2]);
  new DataView(h.buffer).setUint32(8, params, true);
  new DataView(h.buffer).setUint32(12, CHUNK, true);
  return h;
};
const checksums = Array.from({ length: sites }, (_, s) => createHash("sha256").update(header()).update(all.slot(s)).digest());
let peakRss = 0;
const sources: UpdateSource[] = Array.from({ length: sites }, (_, s) => ({
  id: `site-${s}`,
  weight: weights[s]!,
  open: async () =>
    (async function* () {
      yield header();
      const slot = all.slot(s);
      for (let at = 0; at < slot.length; at += 65_536) {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
        yield slot.subarray(at, at + 65_536);
      }
      yield new Uint8Array(checksums[s]!);
    })(),
}));
const codec = CodecSpec.parse("int8");
const streamed = () => streamingMean(sources, { length: params, codec, maxAbs: 1e4, pieceValues: PIECE, concurrency: sites });
// Memory first, in a run of its own: later runs leave arenas behind for the collector.
const rssBefore = process.memoryUsage.rss();
const first = await streamed();
const rssGrowth = peakRss - rssBefore;
if (first.rejected.length > 0) throw new Error(`rejected: ${first.rejected.map((r) => r.error.message).join("; ")}`);
const streamedSum = first.mean.slice();
const arenaBytes = first.arenaBytes;
const streamSeconds = await timeAsync(streamed, 3);
const streamedIdentical = Buffer.from(streamedSum.buffer).equals(Buffer.from(kernelSum.buffer));

// 5. numpy over the same updates as float32.
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "consilium-bench-"));
const file = join(dir, "updates.bin");
{
  const joined = new Uint8Array(totalBytes);
  for (let s = 0; s < sites; s++) joined.set(all.slot(s), s * payloadBytes);
  writeFileSync(file, joined);
}
const PYTHON = String.raw`
import json, sys, time
import numpy as np
path, sites, params, chunk, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
weights = json.loads(sys.argv[6])
raw = np.fromfile(path, dtype=np.uint8).reshape(sites, -1)
full = params // chunk
stack = np.empty((sites, params), dtype=np.float32)
for s in range(sites):
    records = raw[s, : full * (chunk + 4)].reshape(full, chunk + 4)
    scales = records[:, :4].copy().view("<f4")
    stack[s, : full * chunk] = (records[:, 4:].view(np.int8).astype(np.float32) * scales).reshape(-1)
    if full * chunk < params:
        tail = raw[s, full * (chunk + 4):]
        stack[s, full * chunk:] = tail[4:].view(np.int8).astype(np.float32) * tail[:4].copy().view("<f4")[0]
def timed(f):
    f()
    runs = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); runs.append(time.perf_counter() - t)
    return sorted(runs)[len(runs) // 2]
w64 = np.asarray(weights)
w32 = w64.astype(np.float32)
out = {"numpy": np.__version__,
       "f64": timed(lambda: np.average(stack, axis=0, weights=w64)),
       "f32": timed(lambda: np.average(stack, axis=0, weights=w32))}
mean = np.average(stack, axis=0, weights=w64)
out["checksum"] = float(np.abs(mean).sum())
print(json.dumps(out))
`;
const py = spawnSync("python3", ["-c", PYTHON, file, String(sites), String(params), String(CHUNK), "3", JSON.stringify(weights)], { encoding: "utf8", maxBuffer: 1 << 20 });
rmSync(dir, { recursive: true, force: true });
const numpy = py.status === 0 ? (JSON.parse(py.stdout) as { numpy: string; f64: number; f32: number; checksum: number }) : undefined;
if (!numpy) process.stderr.write(`numpy run failed: ${py.stderr || py.error}\n`);
let ours = 0;
for (const v of kernelSum) ours += Math.abs(v);

const n = sites * params;
const rate = (seconds: number) => `${(n / seconds / 1e9).toFixed(2)} G`;
const vsNumpy = (seconds: number) => (numpy ? `${(numpy.f32 / seconds).toFixed(2)}× / ${(numpy.f64 / seconds).toFixed(2)}×` : "n/a");
const copyRate = totalBytes / copySeconds;
const kernelRate = totalBytes / kernelSeconds;
const model = 4 * params;
const bound = 2 * model + sites * (PIECE + 4 * (PIECE / CHUNK));
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
process.stdout.write(
  [
    `${sites} int8 updates × ${params.toLocaleString("en-US")} parameters (${mb(totalBytes)} of updates), chunk ${CHUNK}, pieces of ${PIECE.toLocaleString("en-US")} values; median of ${repeats} (3 for the slower rows) after a warm-up; node ${process.version}${numpy ? `, numpy ${numpy.numpy}` : ""}`,
    "",
    "| sum of the updates | seconds | parameters/s | speed vs `np.average` (float32 / float64 weights) |",
    "|---|---|---|---|",
    `| fused int8 decode-and-accumulate (WebAssembly SIMD, one thread) | ${kernelSeconds.toFixed(3)} | ${rate(kernelSeconds)} | ${vsNumpy(kernelSeconds)} |`,
    `| the same in plain JavaScript (the kernel's reference) | ${referenceSeconds.toFixed(3)} | ${rate(referenceSeconds)} | ${vsNumpy(referenceSeconds)} |`,
    `| whole streaming mean: 64 KiB stream chunks copied, SHA-256, checks, kernel | ${streamSeconds.toFixed(3)} | ${rate(streamSeconds)} | ${vsNumpy(streamSeconds)} |`,
    ...(numpy
      ? [
          `| numpy \`np.average(stack, axis=0, weights=w)\`, float32 stack, float32 weights | ${numpy.f32.toFixed(3)} | ${rate(numpy.f32)} | 1.00× / — |`,
          `| numpy \`np.average(stack, axis=0, weights=w)\`, float32 stack, float64 weights | ${numpy.f64.toFixed(3)} | ${rate(numpy.f64)} | — / 1.00× |`,
        ]
      : []),
    "",
    `Memory copy (\`Uint8Array.set\`, ${mb(totalBytes)}): ${(copyRate / 1e9).toFixed(2)} GB/s. The kernel reads the int8 updates at ${(kernelRate / 1e9).toFixed(2)} GB/s: the copy is ${(copyRate / kernelRate).toFixed(2)}× faster (the target is within 3×).`,
    "",
    `Memory of the streaming mean: the arena (float32 sum and one piece per site) is ${mb(arenaBytes)}; resident memory grew by ${mb(rssGrowth)} while it ran, against a bound of 2 × the float32 model + one piece per site = ${mb(bound)} (decoding every update first would hold ${mb(sites * model)}).`,
    "",
    `Checks: JavaScript reference and kernel sums ${identical ? "identical" : "DIFFER"}; streaming mean and kernel ${streamedIdentical ? "identical" : "DIFFER"}; Σ|mean| ours ${ours.toPrecision(8)}${numpy ? `, numpy ${numpy.checksum.toPrecision(8)}` : ""}.`,
    "",
  ].join("\n"),
);
if (!identical || !streamedIdentical) process.exitCode = 1;
