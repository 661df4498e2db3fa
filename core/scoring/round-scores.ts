import { z } from "zod";
import { ScoringDecision } from "./scoring-policy.ts";
import { SiteScore } from "./score-updates.ts";

/** `rounds/{r}/scores.json`: every verified update's scores and the decision each led to. */
export const RoundScores = z.object({
  round: z.number().int().positive(),
  /** Sites in quarantine this round: scored, but left out of the aggregate. */
  excluded: z.array(z.string()),
  /** The alignment with its centre that at least half the trusted cohort reaches (see scoreUpdates); null below four trusted sites. */
  coherence: z.number().min(-1).max(1).nullable(),
  scores: z.array(SiteScore),
  decisions: z.array(ScoringDecision),
});
export type RoundScores = z.infer<typeof RoundScores>;
