import { describe, expect, it } from "vitest";
import { sha256Hex } from "./sha256-hex.ts";

describe("sha256Hex", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ])("matches the FIPS 180-2 digest of %j", (text, digest) => {
    // Prepare
    const bytes = new TextEncoder().encode(text);

    // Execute
    const hex = sha256Hex(bytes);

    // Assert
    expect(hex).toBe(digest);
  });
});
