import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { advertiseKeys } from "../../core/secagg/site-advertise.ts";
import { signBytes, verifyBytes } from "../../core/secagg/identity.ts";
import { testConfig } from "../../test/support/secagg.ts";
import { dropSecureState, loadIdentity, loadSecureState, saveSecureState } from "./secure-keys.ts";

describe("what a site keeps for secure aggregation", () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-secure-keys-"))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("makes its identity once, owner-only, and loads the same key after a restart", async () => {
    // Execute
    const first = await loadIdentity(dir);
    const again = await loadIdentity(dir);

    // Assert: the same public key, and the reloaded private key signs for it.
    expect(Buffer.from(again.publicKey).equals(Buffer.from(first.publicKey))).toBe(true);
    const message = new TextEncoder().encode("round 3");
    expect(verifyBytes(first.publicKey, message, signBytes(again.privateKey, message))).toBe(true);
    expect((await stat(join(dir, "identity.pem"))).mode & 0o777).toBe(0o600);
  });

  it("keeps one round's protocol state and hands it back only for that round", async () => {
    // Prepare
    const { state } = advertiseKeys(testConfig({ sites: 5, length: 8, round: 4 }), 2, (await loadIdentity(undefined)).privateKey);

    // Execute
    await saveSecureState(dir, state);

    // Assert
    expect(await loadSecureState(dir, 4)).toEqual(state);
    expect(await loadSecureState(dir, 5)).toBeNull();
    expect((await stat(join(dir, "secure-round.json"))).mode & 0o777).toBe(0o600);
    await dropSecureState(dir);
    expect(await loadSecureState(dir, 4)).toBeNull();
  });
});
