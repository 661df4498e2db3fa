import { z } from "zod";

/**
 * The largest count one site may report (rows, samples, predictions, bytes downloaded): 2^36,
 * beyond any hospital, so that a sum over 131,072 sites is still a safe integer. A count within
 * the safe integers is not enough: the coordinator sums them over the sites, and a pooled total
 * beyond 2^53 would fail the schema of the status, the preprocessing or the model manifest.
 */
export const MAX_SITE_COUNT = 2 ** 36;

export const SiteCount = z.number().int().nonnegative().max(MAX_SITE_COUNT);
