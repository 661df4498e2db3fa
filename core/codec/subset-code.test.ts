import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { seededSubset } from "./seeded-subset.ts";
import { readSubset, subsetBytes, writeSubset } from "./subset-code.ts";
import { fromHex, toHex } from "../../test/support/codec.ts";

/** Codes `indices` below `n` into a section with room to spare, so that an overrun would show. */
function coded(indices: Uint32Array, n: number): { bytes: Uint8Array; used: number } {
  const size = subsetBytes(n, indices.length);
  const room = new Uint8Array(size + 16);
  const used = writeSubset(indices, n, new DataView(room.buffer));
  expect(room.subarray(size).every((b) => b === 0)).toBe(true);
  return { bytes: room.slice(0, size), used };
}

/** Whether `kept` is `expected`, compared without building arrays (which is slow at millions). */
function same(kept: Uint32Array, expected: Uint32Array): boolean {
  return kept.length === expected.length && kept.every((x, j) => x === expected[j]);
}

function decoded(bytes: Uint8Array, n: number, k: number): { problem: string | undefined; kept: number[] } {
  const out = new Uint32Array(k);
  const problem = readSubset(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), n, k, out);
  return { problem, kept: Array.from(out) };
}

/** Subsets that stress the coder: both ends, every other position, evenly spread, random. */
const patterns: Record<string, (n: number, k: number) => Uint32Array> = {
  first: (_n, k) => Uint32Array.from({ length: k }, (_, j) => j),
  last: (n, k) => Uint32Array.from({ length: k }, (_, j) => n - k + j),
  alternating: (n, k) => Uint32Array.from({ length: k }, (_, j) => (2 * j < n ? 2 * j : 2 * (j - Math.ceil(n / 2)) + 1)).sort(),
  spread: (n, k) => Uint32Array.from({ length: k }, (_, j) => Math.floor((j * n) / k)),
  random: (n, k) => seededSubset(n, k, n * 31 + k),
};

const shapes = [1, 2, 3, 7, 13, 64, 255, 256, 257, 1000, 4099].flatMap((n) =>
  [...new Set([0, 1, 2, 3, Math.floor(n / 10), Math.floor(n / 3), Math.floor(n / 2), n - 2, n - 1, n])].filter((k) => k >= 0 && k <= n).map((k) => [n, k] as const),
);

describe("enumerative subset coding", () => {
  it("writes the hand-derived bytes of a small subset", () => {
    // Prepare: 0, 1, 6, 10 of 13. The range starts at 2^48; positions 0 to 10 leave the interval
    // [14,565,837,955,653, +393,671,296,099), below 2^40 wide, so one byte shifts out, 0x0d
    // (low / 2^40 = 13.2). The rest, ×256, is [69,679,819,408,640, +100,779,851,801,344), whose
    // first multiple of 2^40 is 64 · 2^40: the byte 0x40, then zeros.
    const indices = Uint32Array.of(0, 1, 6, 10);

    // Execute
    const { bytes, used } = coded(indices, 13);

    // Assert
    expect({ hex: toHex(bytes), used }).toEqual({ hex: "0d40", used: 2 });
    expect(decoded(bytes, 13, 4)).toEqual({ problem: undefined, kept: [0, 1, 6, 10] });
  });

  it.each([
    // n, k, bytes: ceil((n · H2(k / n) + k · n / 2^39) / 8), H2 bounded above with 32-bit logarithms.
    [13, 4, 2], // 11.58 bits; log2 C(13, 4) = 9.48
    [2, 1, 1], // 2 bits; log2 2 = 1
    [1_000_000, 100_000, 58_625], // 468,995.6 bits; log2 C = 468,986.0
    [130_241, 13_025, 7_636], // the benchmark's MLP at 10 %: 61,085.3 bits
    [130_017, 13_002, 7_623], // 60,978.4 bits
    [2 ** 32 - 1, 1, 5], // 33.4 bits
    [2 ** 32 - 1, 2 ** 31, 538_968_064], // 2^32 - 1 bits, and 2^24 for the rounding of 2^31 kept
    [7, 0, 0], // nothing kept or everything kept: nothing to say
    [7, 7, 0],
    [0, 0, 0],
  ])("takes a fixed number of bytes for k of n (n %i, k %i)", (n, k, bytes) => {
    // Execute
    const size = subsetBytes(n, k);

    // Assert
    expect(size).toBe(bytes);
  });

  it.each(shapes)("reads back every pattern it wrote, within its fixed size (n %i, k %i)", (n, k) => {
    for (const [name, pattern] of Object.entries(patterns)) {
      // Prepare
      const indices = pattern(n, k);

      // Execute
      const { bytes, used } = coded(indices, n);

      // Assert
      expect({ name, fits: used <= bytes.length }).toEqual({ name, fits: true });
      expect({ name, ...decoded(bytes, n, k) }).toEqual({ name, problem: undefined, kept: Array.from(indices) });
    }
  });

  it.each([
    [1_000_000, 1],
    [1_000_000, 100_000],
    [1_000_000, 500_000],
    [1_000_000, 999_999],
    [2 ** 22, 2 ** 21],
  ])("never outgrows its fixed size on adversarial subsets (n %i, k %i)", (n, k) => {
    for (const [name, pattern] of Object.entries(patterns)) {
      // Prepare
      const indices = pattern(n, k);
      const out = new Uint32Array(k);

      // Execute
      const { bytes, used } = coded(indices, n);
      const problem = readSubset(new DataView(bytes.buffer), n, k, out);

      // Assert
      expect({ name, fits: used <= bytes.length, problem, same: same(out, indices) }).toEqual({ name, fits: true, problem: undefined, same: true });
    }
  });

  it("sweeps k over a range of n without outgrowing the fixed size", () => {
    for (let n = 2; n <= 300; n += 7) {
      for (let k = 1; k < n; k += Math.max(1, Math.floor(n / 17))) {
        for (const [name, pattern] of Object.entries(patterns)) {
          // Prepare
          const indices = pattern(n, k);

          // Execute
          const { bytes, used } = coded(indices, n);

          // Assert
          expect({ n, k, name, fits: used <= bytes.length }).toEqual({ n, k, name, fits: true });
        }
      }
    }
  });

  it("spends within 3 bytes of log2 C(n, k) on the benchmark's MLP at 10 %", () => {
    // Prepare: log2 C(130,241, 13,025), summed exactly enough in float64.
    const [n, k] = [130_241, 13_025];
    let bits = 0;
    for (let j = 0; j < k; j++) bits += Math.log2((n - j) / (k - j));

    // Execute
    const size = subsetBytes(n, k);

    // Assert
    expect(bits / 8).toBeCloseTo(7_634.65, 2);
    expect(size - bits / 8).toBeLessThan(3);
  });

  it.each([
    ["a last byte one too high", "0d41", "update's position bytes are not the coding of the coordinates they decode to"],
    ["a last byte one too low", "0d3f", "update's position bytes are not the coding of the coordinates they decode to"],
    ["bytes of all ones", "ffff", "update's position bytes are not the coding of the coordinates they decode to"],
  ])("rejects %s", (_name, hex, message) => {
    // Execute
    const { problem, kept } = decoded(fromHex(hex), 13, 4);

    // Assert
    expect(problem).toBe(message);
    expect(kept.every((x, j) => x < 13 && (j === 0 || x > kept[j - 1]!))).toBe(true);
  });

  it("rejects non-zero padding after the bytes the coding used", () => {
    // Prepare: 10 of 1000 take log2 C(1000, 10) = 77.7 bits, 10 bytes, of a section of 11.
    const n = 1000;
    const { bytes, used } = coded(seededSubset(n, 10, 3), n);
    bytes[bytes.length - 1] = 0x01;

    // Execute
    const { problem } = decoded(bytes, n, 10);

    // Assert
    expect(used).toBeLessThan(bytes.length);
    expect(problem).toBe(`update's position bytes have non-zero padding after their first ${used}`);
  });

  it.each([
    [13, 4],
    [1000, 100],
    [1000, 900],
    [100_000, 10_000],
  ])("reads corrupted bytes as a problem or some k-subset, never throwing (n %i, k %i)", (n, k) => {
    // Prepare
    const { bytes } = coded(seededSubset(n, k, 1), n);
    const rng = seededRandom(n + k);
    const corruptions = [new Uint8Array(bytes.length).fill(0xff), new Uint8Array(bytes.length)];
    for (let t = 0; t < 200; t++) {
      const bad = bytes.slice();
      const flips = 1 + Math.floor(rng() * 3);
      for (let f = 0; f < flips; f++) bad[Math.floor(rng() * bad.length)]! ^= 1 + Math.floor(rng() * 255);
      corruptions.push(bad);
    }

    for (const bad of corruptions) {
      // Execute
      const { problem, kept } = decoded(bad, n, k);

      // Assert
      expect(problem === undefined || problem.startsWith("update's position bytes ")).toBe(true);
      expect(kept.every((x, j) => x < n && (j === 0 || x > kept[j - 1]!))).toBe(true);
    }
  });

  it.each([
    [13, 4, 715],
    [20, 3, 1140],
    [12, 6, 924],
  ])("accepts exactly one coding per subset: of all 2-byte sections, C(n, k) (n %i, k %i)", (n, k, subsets) => {
    // Prepare
    const accepted: { kept: number[]; hex: string }[] = [];

    // Execute
    for (let word = 0; word < 0x10000; word++) {
      const bytes = Uint8Array.of(word >>> 8, word & 0xff);
      const { problem, kept } = decoded(bytes, n, k);
      if (problem === undefined) accepted.push({ kept, hex: toHex(bytes) });
    }

    // Assert
    expect(subsetBytes(n, k)).toBe(2);
    expect(accepted.length).toBe(subsets);
    expect(new Set(accepted.map(({ kept }) => kept.join(","))).size).toBe(subsets);
    for (const { kept, hex } of accepted) expect(toHex(coded(Uint32Array.from(kept), n).bytes)).toBe(hex);
  });
});
