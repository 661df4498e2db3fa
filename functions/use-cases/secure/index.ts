/**
 * @module
 * Secure aggregation in the coordinator (SecAgg+, `core/secagg`): one round's session
 * (`session.ts`), the sites' long-term identities (`identity.ts`), the four phases driven through
 * the task API and stored under `rounds/{r}/secure/` (`step.ts` answers a site's next step,
 * `submit.ts` takes its messages, `phases.ts` closes them), and, in the aggregate job, the inputs
 * the closed phases accepted (`inputs.ts`) and the one unmasking of their sum (`unmask.ts`).
 * A phase closes, write-once, when every site it waits for has posted, or at its deadline; the
 * unmasking phase also as soon as every secret it must rebuild has its threshold of shares. The
 * coordinator relays keys and encrypted shares and keeps only masked inputs: the sum it unmasks
 * in the aggregate job is the only update it ever sees.
 */
export { identityOf, registerIdentity } from "./identity.ts";
export { readSecureInputs, manifestsOf, type SecureInputs } from "./inputs.ts";
export { canUnmask, progressSecureRound, secureSummary, type SecureProgress } from "./phases.ts";
export { MAX_SITES_16_BIT, MIN_SECURE_SITES, ringBits, secureSession } from "./session.ts";
export { secureStep, type SecureStep } from "./step.ts";
export { submitSecure } from "./submit.ts";
export { unmaskRound, type Unmasked } from "./unmask.ts";
