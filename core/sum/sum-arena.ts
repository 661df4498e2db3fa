import { ConfigError } from "../errors.ts";
import { int8SumWasm } from "./int8-sum-wasm.ts";

const PAGE = 65536;
/** Where the arena starts in the module's memory (the first bytes are left unused). */
const BASE = 64;
/**
 * Sites the kernel adds per call, holding sixteen sums in registers across them. Measured at 50
 * sites × 10M parameters (bench/streaming-sum.ts): 1 site a call 4.4 G parameters/s, 4 sites
 * 5.5 G, 8 sites 5.8 G, all 50 at once 3.0 G (too many streams at once for the prefetcher).
 */
const SITES_PER_CALL = 8;
/** wasm32 addresses 4 GiB; staying under 2 GiB keeps every pointer a positive i32. */
const MAX_BYTES = 2 ** 31 - PAGE;

interface Kernel {
  readonly memory: WebAssembly.Memory;
  accumulateInt8(slots: number, stride: number, sites: number, weights: number, factors: number, from: number, values: number, chunkSize: number, dst: number): void;
}

let compiled: WebAssembly.Module | undefined;

/**
 * The memory a streaming sum works in: a float32 sum of `length` values and `slots` staging
 * areas of `slotBytes` bytes, one per update being read, all inside one WebAssembly instance so
 * that the fused int8 kernel (`int8-sum.wat`) reads the staged bytes and adds into the sum
 * without copies. Everything is allocated once, up front; nothing grows while summing.
 */
export class SumArena {
  readonly sum: Float32Array;
  /** Bytes of memory the arena holds. */
  readonly bytes: number;
  readonly #kernel: Kernel;
  readonly #weights: Float32Array;
  readonly #factorsAt: number;
  readonly #sumAt: number;
  readonly #slotsAt: number;
  readonly #slotBytes: number;
  readonly #slots: readonly Uint8Array[];

  constructor(length: number, slots: number, slotBytes: number) {
    const align = (n: number) => Math.ceil(n / 16) * 16;
    const slotStride = align(slotBytes);
    const factorsAt = BASE + align(4 * SITES_PER_CALL);
    const sumAt = factorsAt + align(4 * SITES_PER_CALL);
    const slotsAt = sumAt + align(length * 4);
    const needed = slotsAt + slots * slotStride;
    if (needed > MAX_BYTES) throw new ConfigError(`a streaming sum of ${length} values and ${slots} × ${slotBytes}-byte pieces needs ${needed} bytes, above the ${MAX_BYTES} it can address`);
    compiled ??= new WebAssembly.Module(Buffer.from(int8SumWasm, "base64"));
    const kernel = new WebAssembly.Instance(compiled).exports as unknown as Kernel;
    const pages = Math.ceil(needed / PAGE);
    kernel.memory.grow(pages - kernel.memory.buffer.byteLength / PAGE);
    this.#kernel = kernel;
    this.bytes = kernel.memory.buffer.byteLength;
    this.#weights = new Float32Array(kernel.memory.buffer, BASE, SITES_PER_CALL);
    this.#factorsAt = factorsAt;
    this.#sumAt = sumAt;
    this.sum = new Float32Array(kernel.memory.buffer, sumAt, length);
    this.#slotsAt = slotsAt;
    this.#slotBytes = slotStride;
    this.#slots = Array.from({ length: slots }, (_, i) => new Uint8Array(kernel.memory.buffer, slotsAt + i * slotStride, slotBytes));
  }

  /** Staging area `i`, where one update's next piece is read to. */
  slot(i: number): Uint8Array {
    const slot = this.#slots[i];
    if (slot === undefined) throw new RangeError(`no slot ${i}, the arena has ${this.#slots.length}`);
    return slot;
  }

  /**
   * Adds `weight` times the `values` values of the int8 payload staged in slot `i` from byte
   * `from` (a chunk boundary, `chunkSize` values a chunk) into `sum[at…]`: `accumulateInt8Sites`
   * for one site.
   */
  accumulateInt8(i: number, values: number, chunkSize: number, at: number, weight: number, from = 0): void {
    this.accumulateInt8Sites(i, [weight], values, chunkSize, at, from);
  }

  /**
   * Adds the int8 payloads staged in the slots `first…first + weights.length − 1`, each from byte
   * `from` (a chunk boundary, `chunkSize` values a chunk), times their weights, into
   * `sum[at…at + values]`: every value adds the sites in slot order, with the float32 operations
   * of `accumulateInt8Reference`, sixteen sums at a time staying in registers across eight sites.
   */
  accumulateInt8Sites(first: number, weights: ArrayLike<number>, values: number, chunkSize: number, at: number, from = 0): void {
    const count = weights.length;
    if (count === 0) return;
    if (at < 0 || at + values > this.sum.length) throw new RangeError(`values ${at}…${at + values} are outside the sum of ${this.sum.length}`);
    if (!(Number.isInteger(chunkSize) && chunkSize >= 1)) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
    const bytes = values + 4 * Math.ceil(values / chunkSize);
    for (let i = first; i < first + count; i++) {
      if (from < 0 || from + bytes > this.slot(i).length) throw new RangeError(`bytes ${from}…${from + bytes} are outside slot ${i}`);
    }
    for (let g = 0; g < count; g += SITES_PER_CALL) {
      const sites = Math.min(SITES_PER_CALL, count - g);
      for (let s = 0; s < sites; s++) this.#weights[s] = weights[g + s]!;
      const slotsAt = this.#slotsAt + (first + g) * this.#slotBytes;
      this.#kernel.accumulateInt8(slotsAt, this.#slotBytes, sites, this.#weights.byteOffset, this.#factorsAt, from, values, chunkSize, this.#sumAt + at * 4);
    }
  }
}

/**
 * What the int8 kernel computes, in JavaScript: for each chunk of the payload (a float32 scale,
 * then `chunkSize` int8 codes) the factor `f = fround(weight × scale)`, then
 * `out[at + i] = fround(out[at + i] + fround(f × code))`. Kept as the kernel's specification and
 * test oracle; the kernel agrees with it bit for bit.
 */
export function accumulateInt8Reference(payload: Uint8Array, values: number, chunkSize: number, out: Float32Array, at: number, weight: number): void {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const w = Math.fround(weight);
  for (let start = 0, p = 0; start < values; start += chunkSize) {
    const end = Math.min(values, start + chunkSize);
    const f = Math.fround(w * view.getFloat32(p, true));
    p += 4;
    for (let i = start; i < end; i++, p++) out[at + i] = Math.fround(out[at + i]! + Math.fround(f * view.getInt8(p)));
  }
}
