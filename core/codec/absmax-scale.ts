const bits = new Float32Array(1);
const word = new Uint32Array(bits.buffer);

/** The next float32 after a non-negative finite float32 `x`, towards +∞ (`step` 1) or 0 (-1). */
function nextFloat32(x: number, step: 1 | -1): number {
  bits[0] = x;
  word[0] = word[0]! + step;
  return bits[0]!;
}

/**
 * The chunk scale of block-wise absmax quantisation with codes in [-maxCode, maxCode]:
 * `maxAbs / maxCode` rounded up to float32, so that no code exceeds `maxCode`, and capped so that
 * `maxCode` still decodes to a finite float32. Shared by the int8 and int4 codecs.
 *
 * @example
 * const scaleFor = absmaxScale(127);
 * const scale = scaleFor(maxAbs); // maxAbs / scale <= 127, and Math.fround(127 * scale) is finite
 */
export function absmaxScale(maxCode: number): (maxAbs: number) => number {
  let maxScale = Math.fround(3.4028234663852886e38 / maxCode);
  while (!Number.isFinite(Math.fround(maxScale * maxCode))) maxScale = nextFloat32(maxScale, -1);
  return (maxAbs) => {
    let scale = Math.fround(maxAbs / maxCode);
    // Rounding down is harmless for normal scales but, for subnormal ones, can leave so few bits
    // that the largest code lands far past maxCode. scale * maxCode is exact in a double.
    if (scale * maxCode < maxAbs) scale = nextFloat32(scale, 1);
    // The cap still maps float32's largest value to maxCode plus about 2^-23 relative, which
    // rounds to maxCode (stochastic rounding clamps it there).
    return Math.min(scale, maxScale);
  };
}
