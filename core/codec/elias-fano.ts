/**
 * Elias–Fano coding of the kept coordinates of a sparse update (Elias, "Efficient storage and
 * retrieval by content and address of static files", JACM 1974; Fano 1971): a strictly increasing
 * sequence of `k` integers in [0, n) in close to the `log2(C(n, k))` bits any coding needs, with
 * a size fixed by `n` and `k` alone, which the container requires (`container.ts`).
 *
 * With `L = max(0, floor(log2(n / k)))`, computed exactly as the largest L with `k · 2^L ≤ n`,
 * each index `x` splits into its `L` low bits and its high part `x >>> L`:
 *
 * ```text
 * low section   ceil(k·L / 8) bytes            index i's low bits at bits [i·L, i·L + L)
 * high section  ceil((k + ceil(n / 2^L)) / 8)  index i sets bit (x_i >>> L) + i
 * ```
 *
 * Bits are numbered from the least significant bit of the first byte of each section; padding
 * bits at the end of a section are 0. The high section is the high parts in unary: the i-th set
 * bit, at position p, gives `x_i >>> L = p - i`. At most `k + ceil(n / 2^L)` bits suffice since
 * the largest high part is `floor((n - 1) / 2^L) < ceil(n / 2^L)`. Together that is at most
 * `2 + log2(n / k)` bits per index; with `k = 0` both sections are empty.
 */

/**
 * Low bits per index: the largest L with `k · 2^L ≤ n`, or 0 when `k` is 0.
 *
 * @example
 * eliasFanoLowBits(1_000_000, 100_000); // 3
 */
export function eliasFanoLowBits(n: number, k: number): number {
  let low = 0;
  if (k === 0) return low;
  while (k * 2 ** (low + 1) <= n) low++;
  return low;
}

/**
 * Bytes of the low and high sections for `k` indices below `n`.
 *
 * @example
 * eliasFanoBytes(1_000_000, 100_000); // 37_500 + 28_125
 */
export function eliasFanoBytes(n: number, k: number): number {
  if (k === 0) return 0;
  const low = eliasFanoLowBits(n, k);
  return Math.ceil((k * low) / 8) + Math.ceil(highBits(n, k, low) / 8);
}

/**
 * Writes strictly increasing `indices` below `n` into the zero-filled `view`.
 *
 * @example
 * const bytes = new Uint8Array(eliasFanoBytes(13, 4));
 * writeEliasFano(Uint32Array.of(0, 1, 6, 10), 13, new DataView(bytes.buffer)); // 02 23 01
 */
export function writeEliasFano(indices: Uint32Array, n: number, view: DataView): void {
  const k = indices.length;
  if (k === 0) return;
  const low = eliasFanoLowBits(n, k);
  const lowBytes = Math.ceil((k * low) / 8);
  const unit = 2 ** low;
  for (let i = 0; i < k; i++) {
    const x = indices[i]!;
    const high = Math.floor(x / unit);
    const rest = x - high * unit;
    for (let b = 0; b < low; b++) if (Math.floor(rest / 2 ** b) % 2 === 1) setBit(view, 0, i * low + b);
    setBit(view, lowBytes, high + i);
  }
}

/**
 * Reads `k` indices below `n` into `out`, checking them as it goes; returns why they are
 * malformed (a wrong count, an index past `n`, one not above its predecessor, non-zero padding),
 * or `undefined` when `out` holds them.
 *
 * @example
 * const kept = new Uint32Array(k);
 * const problem = readEliasFano(view, length, k, kept); // undefined, or e.g. "update's index bits hold 3 kept coordinates, its header says 4"
 */
export function readEliasFano(view: DataView, n: number, k: number, out: Uint32Array): string | undefined {
  if (k === 0) return undefined;
  const low = eliasFanoLowBits(n, k);
  const lowBits = k * low;
  const lowBytes = Math.ceil(lowBits / 8);
  const bits = highBits(n, k, low);
  const unit = 2 ** low;
  if (paddingSet(view, 0, lowBits)) return "update's index bits have non-zero padding after the low bits";
  let i = 0;
  let previous = -1;
  for (let byte = 0; byte < Math.ceil(bits / 8); byte++) {
    let set = view.getUint8(lowBytes + byte);
    while (set !== 0) {
      const position = byte * 8 + (31 - Math.clz32(set & -set));
      set &= set - 1;
      if (position >= bits) return "update's index bits have non-zero padding after the high bits";
      if (i === k) return `update's index bits hold more than ${k} kept coordinates, its header says ${k}`;
      const x = (position - i) * unit + readLow(view, i, low);
      if (x >= n) return `update keeps coordinate ${x} as its entry ${i}, but it has only ${n} values`;
      if (x <= previous) {
        return `update keeps coordinate ${x} as its entry ${i}, after coordinate ${previous}: kept coordinates must be strictly increasing`;
      }
      out[i++] = x;
      previous = x;
    }
  }
  if (i < k) return `update's index bits hold ${i} kept coordinates, its header says ${k}`;
  return undefined;
}

function highBits(n: number, k: number, low: number): number {
  return k + Math.ceil(n / 2 ** low);
}

function setBit(view: DataView, start: number, bit: number): void {
  const at = start + Math.floor(bit / 8);
  view.setUint8(at, view.getUint8(at) | (1 << bit % 8));
}

function readLow(view: DataView, i: number, low: number): number {
  let value = 0;
  for (let b = 0; b < low; b++) {
    const bit = i * low + b;
    if ((view.getUint8(Math.floor(bit / 8)) >>> bit % 8) & 1) value += 2 ** b;
  }
  return value;
}

/** Whether a padding bit after the first `end` bits of the section at `start` is set. */
function paddingSet(view: DataView, start: number, end: number): boolean {
  if (end % 8 === 0) return false;
  return view.getUint8(start + Math.floor(end / 8)) >>> end % 8 !== 0;
}
