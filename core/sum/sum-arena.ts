import { ConfigError } from "../errors.ts";
import { int8SumWasm } from "./int8-sum-wasm.ts";

const PAGE = 65536;
/** Where the sum starts in the module's memory (the first bytes are left unused, 16-aligned). */
const SUM_AT = 64;
/** wasm32 addresses 4 GiB; staying under 2 GiB keeps every pointer a positive i32. */
const MAX_BYTES = 2 ** 31 - PAGE;

interface Kernel {
  readonly memory: WebAssembly.Memory;
  accumulateInt8(src: number, values: number, chunkSize: number, dst: number, weight: number): void;
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
  readonly #slotsAt: number;
  readonly #slotBytes: number;
  readonly #slots: readonly Uint8Array[];

  constructor(length: number, slots: number, slotBytes: number) {
    const slotStride = Math.ceil(slotBytes / 16) * 16;
    const slotsAt = SUM_AT + Math.ceil((length * 4) / 16) * 16;
    const needed = slotsAt + slots * slotStride;
    if (needed > MAX_BYTES) throw new ConfigError(`a streaming sum of ${length} values and ${slots} × ${slotBytes}-byte pieces needs ${needed} bytes, above the ${MAX_BYTES} it can address`);
    compiled ??= new WebAssembly.Module(Buffer.from(int8SumWasm, "base64"));
    const kernel = new WebAssembly.Instance(compiled).exports as unknown as Kernel;
    const pages = Math.ceil(needed / PAGE);
    kernel.memory.grow(pages - kernel.memory.buffer.byteLength / PAGE);
    this.#kernel = kernel;
    this.bytes = kernel.memory.buffer.byteLength;
    this.sum = new Float32Array(kernel.memory.buffer, SUM_AT, length);
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
   * Adds `weight` times the `values` values of the int8 payload staged in slot `i` (starting at a
   * chunk boundary, `chunkSize` values a chunk) into `sum[at…]`, with the float32 operations of
   * `accumulateInt8Reference`.
   */
  accumulateInt8(i: number, values: number, chunkSize: number, at: number, weight: number): void {
    if (at < 0 || at + values > this.sum.length) throw new RangeError(`values ${at}…${at + values} are outside the sum of ${this.sum.length}`);
    this.slot(i);
    this.#kernel.accumulateInt8(this.#slotsAt + i * this.#slotBytes, values, chunkSize, SUM_AT + at * 4, Math.fround(weight));
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
