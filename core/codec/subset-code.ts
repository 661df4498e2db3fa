/**
 * Enumerative coding of the kept coordinates of a sparse update (Cover, "Enumerative Source
 * Coding", IEEE Trans. Inf. Theory 1973), as a binary range coder (Martin, "Range encoding", 1979;
 * carry handling after Pavlov's LZMA): a strictly increasing sequence of `k` integers in [0, n) in
 * close to the `log2(C(n, k))` bits any coding needs, whatever the sequence, in a section whose
 * size follows from `n` and `k` alone, as the container requires (`container.ts`).
 *
 * Positions are coded in order, position `i` as kept with probability `kept / (n - i)`, `kept`
 * being the coordinates still to come; once none remain, or all remaining positions are kept,
 * nothing more is coded. Every subset thus has probability `1 / C(n, k)`. The coder works on
 * exact integers below 2^53 in plain Numbers, so every platform writes the same bytes: a window
 * `low` of 48 bits plus a carry (below 2^49), and a `range` that starts at 2^48 and is kept in
 * [2^40, 2^48] by shifting out bytes, most significant first. At position `i`,
 * `unit = floor(range / (n - i))`, exact since a float quotient of integers below 2^53 never
 * rounds across an integer; kept takes the low `unit · kept` of the range and dropped the rest,
 * which absorbs the rounding.
 *
 * Size: kept is coded at probability at least `kept / (n - i) · (1 - n / 2^40)`, a loss under
 * `n / 2^39` bits per kept coordinate, dropped at no loss, so the interval left has width
 * `2^-I` with `I ≤ log2 C(n, k) + k · n / 2^39 ≤ subsetBits(n, k)`. After `S` shifts its range is
 * below 2^48, so `8S < I`. The encoder ends on the multiple of 2^40 inside the interval, so it
 * writes `S + 1 ≤ ceil(subsetBits / 8)` bytes and zero padding; with `k = 0` or `k = n` the
 * section is empty.
 *
 * Decoding follows the same steps, reading bytes past the section as 0, so any bytes decode to
 * some `k`-subset; they are accepted only as the encoder's own output (bytes after the first
 * `S + 1` all 0, the decoder's offset into the final interval below 2^40), so each subset has
 * exactly one valid coding.
 */
import { subsetBits } from "./subset-bits.ts";

/** The range after a shift is below this, and the window is this wide. */
const TOP = 2 ** 48;
/** A range below this is shifted by a byte before the next position is coded. */
const BOTTOM = 2 ** 40;

/**
 * Bytes of the section for `k` coordinates below `n`.
 *
 * @example
 * subsetBytes(1_000_000, 100_000); // 58_625, from subsetBits 468,996
 */
export function subsetBytes(n: number, k: number): number {
  return k === 0 || k === n ? 0 : Math.ceil(subsetBits(n, k) / 8);
}

/**
 * Writes strictly increasing `indices` below `n` into the zero-filled `view` and returns how many
 * of the `subsetBytes(n, indices.length)` bytes it used.
 *
 * @example
 * const bytes = new Uint8Array(subsetBytes(13, 4));
 * writeSubset(Uint32Array.of(0, 1, 6, 10), 13, new DataView(bytes.buffer)); // 2: bytes 0d 40
 */
export function writeSubset(indices: Uint32Array, n: number, view: DataView): number {
  let kept = indices.length;
  if (kept === 0 || kept === n) return 0;
  let low = 0;
  let range = TOP;
  // The last byte shifted out, not yet written since a carry may still raise it (-1: none yet),
  // and how many 0xff bytes follow it, which a carry would turn to 0x00.
  let cache = -1;
  let pending = 0;
  let at = 0;
  const shift = () => {
    const top = Math.floor(low / BOTTOM);
    if (top === 0xff) pending++;
    else {
      const carry = top >>> 8;
      if (cache >= 0) view.setUint8(at++, cache + carry);
      for (; pending > 0; pending--) view.setUint8(at++, (0xff + carry) & 0xff);
      cache = top & 0xff;
    }
    low = (low % BOTTOM) * 256;
  };
  for (let i = 0, j = 0; kept > 0 && kept < n - i; i++) {
    const keptPart = Math.floor(range / (n - i)) * kept;
    if (indices[j] === i) {
      range = keptPart;
      j++;
      kept--;
    } else {
      low += keptPart;
      range -= keptPart;
    }
    while (range < BOTTOM) {
      range *= 256;
      shift();
    }
  }
  low = Math.ceil(low / BOTTOM) * BOTTOM;
  shift();
  shift();
  return at;
}

/**
 * Reads `k` coordinates below `n` into `out`, in increasing order; returns why the bytes are not
 * the coding of a `k`-subset, or `undefined`. Whatever the bytes, `out` ends up holding some
 * `k`-subset, and the work is bounded by `n` steps.
 *
 * @example
 * const kept = new Uint32Array(k);
 * const problem = readSubset(view, length, k, kept); // undefined, or e.g. "update's position bytes have non-zero padding after their first 2"
 */
export function readSubset(view: DataView, n: number, k: number, out: Uint32Array): string | undefined {
  if (k === 0 || k === n) {
    for (let j = 0; j < k; j++) out[j] = j;
    return undefined;
  }
  const bytes = subsetBytes(n, k);
  let at = 0;
  const next = () => (at < bytes ? view.getUint8(at++) : (at++, 0));
  let code = 0;
  for (let b = 0; b < 6; b++) code = code * 256 + next();
  let range = TOP;
  let i = 0;
  let j = 0;
  for (let kept = k; kept > 0 && kept < n - i; i++) {
    const keptPart = Math.floor(range / (n - i)) * kept;
    if (code < keptPart) {
      range = keptPart;
      out[j++] = i;
      kept--;
    } else {
      code -= keptPart;
      range -= keptPart;
    }
    while (range < BOTTOM) {
      range *= 256;
      code = code * 256 + next();
    }
  }
  while (j < k) out[j++] = i++;
  // The encoder's bytes: its final value is a multiple of 2^40, less than 2^40 above `low`.
  if (code >= BOTTOM) return "update's position bytes are not the coding of the coordinates they decode to";
  const used = at - 5;
  for (let b = used; b < bytes; b++) {
    if (view.getUint8(b) !== 0) return `update's position bytes have non-zero padding after their first ${used}`;
  }
  return undefined;
}
