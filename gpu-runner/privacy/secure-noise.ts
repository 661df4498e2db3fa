/**
 * @module
 * Uniform and standard normal draws from the operating system's CSPRNG (`node:crypto`), for
 * differential privacy: noise a party could predict or replay (a seeded generator, `Math.random`)
 * protects nothing. Random words are pooled so that one draw costs a few nanoseconds, not a syscall.
 */
import { randomFillSync } from "node:crypto";

const WORDS = 16_384;
const words = new Uint32Array(WORDS);
let word = WORDS;

const NORMALS = 8_192;
const normals = new Float64Array(NORMALS);
let normal = NORMALS;

const TWO_26 = 67_108_864;
const TWO_53 = 9_007_199_254_740_992;

function nextWord(): number {
  if (word === WORDS) {
    randomFillSync(words);
    word = 0;
  }
  return words[word++] ?? 0;
}

/**
 * A uniform draw in [0, 1) with 53 random bits (every double of the form k / 2^53). Each pooled
 * word is used once.
 *
 * @example
 * const inBatch = secureUniform() < sampleRate;
 */
export function secureUniform(): number {
  return ((nextWord() >>> 5) * TWO_26 + (nextWord() >>> 6)) / TWO_53;
}

/** Marsaglia's polar method: no trigonometry, one logarithm per pair, accepts π/4 of the pairs. */
function refillNormals(): void {
  let i = 0;
  while (i < NORMALS) {
    const v1 = 2 * secureUniform() - 1;
    const v2 = 2 * secureUniform() - 1;
    const s = v1 * v1 + v2 * v2;
    if (s >= 1 || s === 0) continue;
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    normals[i++] = v1 * f;
    normals[i++] = v2 * f;
  }
  normal = 0;
}

/**
 * A standard normal draw N(0, 1) from the CSPRNG.
 *
 * @example
 * const noisy = sum + noiseMultiplier * clip * secureNormal();
 */
export function secureNormal(): number {
  if (normal === NORMALS) refillNormals();
  return normals[normal++] ?? 0;
}
