/**
 * @module
 * A site credential is `cs_<siteId>_<secret>`: the coordinator issues it at enrolment and keeps
 * only its sha256; the site id it names is the only identity a site request carries.
 */

/** The site id a credential names, or `null` when it is not a site credential. */
export function siteIdOfCredential(token: string): string | null {
  return /^cs_([a-z0-9-]+)_[A-Za-z0-9_-]+$/.exec(token)?.[1] ?? null;
}
