/**
 * @module
 * A site credential is `cs_<siteId>_<secret>` as issued at enrolment (generation 0), and
 * `cs_<siteId>.<generation>_<secret>` after each rotation: the coordinator keeps only its sha256;
 * the site id it names is the only identity a site request carries, and the generation tells the
 * coordinator which of the site's credentials to compare it with.
 */

/** The site and generation a credential names, or `null` when it is not a site credential. */
export function parseSiteCredential(token: string): { readonly siteId: string; readonly generation: number } | null {
  const m = /^cs_([a-z0-9-]+)(?:\.([1-9]\d{0,5}))?_[A-Za-z0-9_-]+$/.exec(token);
  return m ? { siteId: m[1]!, generation: m[2] === undefined ? 0 : Number(m[2]) } : null;
}

/** The site id a credential names, or `null` when it is not a site credential. */
export function siteIdOfCredential(token: string): string | null {
  return parseSiteCredential(token)?.siteId ?? null;
}
