/**
 * Properties every registered codec must have. A new codec joins `CodecName` and the registry
 * and is tested here without further work; its accuracy gets its own `<codec>.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { CodecName } from "./codec-name.ts";
import { decodeUpdate } from "./decode-update.ts";
import { decodeUpdateInto } from "./decode-update-into.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { codecNameById, codecs } from "./registry.ts";
import { axpy, seededValues } from "../../test/support/codec.ts";

// Dense codecs ignore `fraction` and `seed`; sparse codecs ignore `chunkSize`.
const shapes = [0, 1, 255, 256, 257, 1000, 1500].flatMap((length) => [
  { length, options: {} },
  { length, options: { chunkSize: 7 } },
  { length, options: { fraction: 0.37, seed: 5 } },
  { length, options: { fraction: 1, seed: 2 ** 32 - 1 } },
]);

describe("codec registry", () => {
  it("gives every codec its own wire id, found again by id", () => {
    // Execute
    const ids = CodecName.options.map((name) => codecs[name].id);

    // Assert
    expect(new Set(ids).size).toBe(ids.length);
    expect(CodecName.options.map((name) => codecNameById(codecs[name].id))).toEqual(CodecName.options);
  });

  it("leaves the retired ids unused: 5 and 7, top-k with Elias–Fano positions", () => {
    // Execute
    const retired = [5, 7].map(codecNameById);

    // Assert
    expect(retired).toEqual([undefined, undefined]);
  });
});

describe.each(CodecName.options)("codec %s", (codec) => {
  it.each(shapes)("encodes $length values with $options at exactly encodedSize bytes", ({ length, options }) => {
    // Prepare
    const values = seededValues(length, length);

    // Execute
    const bytes = encodeUpdate(values, codec, options);

    // Assert
    expect(bytes.length).toBe(encodedSize(length, codec, options));
  });

  it.each(shapes)("decodes $length values with $options to its own codec and length", ({ length, options }) => {
    // Prepare
    const bytes = encodeUpdate(seededValues(length, length), codec, options);

    // Execute
    const decoded = decodeUpdate(bytes, { length, codec });

    // Assert
    expect(decoded.codec).toBe(codec);
    expect(decoded.values.length).toBe(length);
  });

  it("is deterministic, so a retried upload is byte-identical", () => {
    // Prepare
    const values = seededValues(600, 11, 5);

    // Execute
    const first = encodeUpdate(values, codec);
    const second = encodeUpdate(values.slice(), codec);

    // Assert
    expect(second).toEqual(first);
  });

  it("encodes the same bytes from the same seeded rng, so a retried stochastic upload is byte-identical", () => {
    // Prepare
    const values = seededValues(600, 13, 5);

    // Execute
    const first = encodeUpdate(values, codec, { rng: seededRandom(7) });
    const second = encodeUpdate(values.slice(), codec, { rng: seededRandom(7) });

    // Assert
    expect(second).toEqual(first);
    expect(decodeUpdate(second, { length: 600, codec }).values.every(Number.isFinite)).toBe(true);
  });

  it.each([{}, { rng: seededRandom(9) }])("accumulates into out exactly as decode followed by axpy (%o)", (options) => {
    // Prepare
    const bytes = encodeUpdate(seededValues(1000, 3, 2), codec, { chunkSize: 100, fraction: 0.3, ...options });
    const expected = seededValues(1000, 5);
    const actual = expected.slice();

    // Execute
    axpy(expected, -0.37, decodeUpdate(bytes).values);
    decodeUpdateInto(bytes, actual, -0.37);

    // Assert
    expect(actual).toEqual(expected);
  });
});
