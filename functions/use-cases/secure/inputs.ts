import { ConsiliumError } from "../../../core/errors.ts";
import { AdvertiseKeys, MaskedInputManifest, UnmaskingShares } from "../../../core/secagg/messages.ts";
import { type IdentityDirectory } from "../../../core/secagg/index.ts";
import { MaskedInputPost, SecureSession, type SecurePhase } from "../../../core/schemas/secure-aggregation.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson } from "../../repo.ts";
import { readPhases } from "./phases.ts";
import { identityOf } from "./identity.ts";

/** What the aggregate job reads of a closed secure round. */
export interface SecureInputs {
  readonly session: SecureSession;
  readonly adverts: AdvertiseKeys[];
  readonly shared: number[];
  readonly posts: { readonly siteId: string; readonly post: MaskedInputPost }[];
  readonly reveals: UnmaskingShares[];
  readonly directory: IdentityDirectory;
}

/** Reads the closed phases of a secure round and the messages they accepted. */
export async function readSecureInputs(deps: CoordinatorDeps, round: number): Promise<SecureInputs> {
  const session = await mustReadJson(deps.store, keys.secureSession(round), SecureSession, "CORRUPT_STATE", `secure session of round ${round}`);
  const phases = await readPhases(deps, round);
  if (!phases.advertise || !phases.shareKeys || !phases.maskedInput || !phases.unmasking) {
    throw new ConsiliumError("CORRUPT_STATE", `round ${round} is aggregating before its secure phases closed`, 500);
  }
  const id = (i: number) => session.participants[i - 1]!;
  const what = (phase: SecurePhase, i: number) => `${phase} message of site ${i}`;
  const posts = [];
  const directory = new Map<number, Uint8Array>();
  for (const i of phases.maskedInput.sites) {
    posts.push({ siteId: id(i), post: await mustReadJson(deps.store, keys.secureMessage(round, "masked-input", id(i)), MaskedInputPost, "CORRUPT_STATE", what("masked-input", i)) });
    directory.set(i, (await identityOf(deps, id(i))) ?? new Uint8Array());
  }
  const reveals = [];
  for (const i of phases.unmasking.sites) reveals.push(await mustReadJson(deps.store, keys.secureMessage(round, "unmasking", id(i)), UnmaskingShares, "CORRUPT_STATE", what("unmasking", i)));
  return { session, adverts: phases.advertise.adverts ?? [], shared: phases.shareKeys.sites, posts, reveals, directory };
}

/** Every manifest in a secure round's inputs, for `unmaskSum`. */
export function manifestsOf(inputs: SecureInputs): MaskedInputManifest[] {
  return inputs.posts.map((p) => p.post.manifest);
}
