import { ConsiliumError } from "../../core/errors.ts";
import type { FederationState } from "../../core/schemas/federation.ts";
import type { SiteEvaluation } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";
import { writeJson } from "../repo.ts";
import { assertPhase, loadFederation, trainCountsAsked } from "./load-federation.ts";
import { activeSites, loadQuality } from "./quality.ts";
import { registerRun } from "./registry/register-run.ts";
import { evaluationChampion } from "./runs/evaluation-champion.ts";
import { auditCoordinator } from "./audit/append-audit.ts";

/** Takes a site's counts on the final model; when every site taking part has reported, the federation is done. */
export async function submitEvaluation(deps: CoordinatorDeps, siteId: string, evaluation: SiteEvaluation): Promise<void> {
  const { config, state } = await loadFederation(deps);
  assertPhase(state, "evaluating");
  if ((await loadQuality(deps))?.excluded.includes(siteId)) {
    throw new ConsiliumError("SITE_EXCLUDED", `site ${siteId} was excluded by the federation's data-quality checks`, 403);
  }
  if (evaluation.modelVersion !== state.modelVersion) {
    throw new ConsiliumError("STALE_MODEL", `evaluation is of model ${evaluation.modelVersion}, final model is ${state.modelVersion}`, 409);
  }
  // The champion's counts must be of the champion this run's evaluation fixed; a site that could not score it sends none.
  if (evaluation.champion !== undefined && evaluation.champion.version !== (await evaluationChampion(deps))) {
    throw new ConsiliumError("WRONG_CHAMPION", `the champion's counts are of version ${evaluation.champion.version}, not of the version this run's evaluation compares with`, 409);
  }
  if (evaluation.globalTrain !== undefined) {
    if (!trainCountsAsked(config)) throw new ConsiliumError("UNASKED_COUNTS", "counts on the training rows are not asked for under this federation's privacy policy or noisy statistics: send the evaluation without globalTrain", 400);
    if (evaluation.globalTrain.n !== evaluation.trainRows) {
      throw new ConsiliumError("INVALID_EVALUATION", `globalTrain counts ${evaluation.globalTrain.n} rows, the evaluation names ${evaluation.trainRows} training rows`, 400);
    }
  }
  // The counts must be of the kind the federation's model makes: K-class counts of its K classes, or binary ones.
  const classes = config.features.label.classes?.length;
  if (classes !== undefined && evaluation.classes?.global.k !== classes) {
    throw new ConsiliumError("INVALID_EVALUATION", `this federation's model has ${classes} classes: send classes counts of ${classes} classes${evaluation.classes ? `, not ${evaluation.classes.global.k}` : " (not binary counts)"}`, 400);
  }
  if (evaluation.classes && (evaluation.classes.personalized.k !== evaluation.classes.global.k || evaluation.classes.local.k !== evaluation.classes.global.k)) {
    throw new ConsiliumError("INVALID_EVALUATION", "classes: the global, personalized and local counts must have the same classes", 400);
  }
  if (classes === undefined && evaluation.classes) throw new ConsiliumError("INVALID_EVALUATION", "this federation's model is binary: send global, personalized and local counts, not classes", 400);
  const choice = evaluation.personalChoice;
  if (choice !== undefined) {
    const invalid = (why: string) => new ConsiliumError("INVALID_EVALUATION", `personalChoice: ${why}`, 400);
    if (choice.validationRows > evaluation.trainRows) throw invalid(`${choice.validationRows} validation rows of ${evaluation.trainRows} training rows`);
    if (choice.kind === "personal" && choice.loss === null) throw invalid("a personal head kept without the losses it was judged on");
    const [personal, global] = evaluation.classes ? [evaluation.classes.personalized, evaluation.classes.global] : [evaluation.personalized, evaluation.global];
    if (choice.kind === "global" && JSON.stringify(personal) !== JSON.stringify(global)) throw invalid("the global model kept, but the personalized counts are not the global model's");
  }
  const record = { siteId, ...evaluation };
  if (!(await writeJson(deps.store, keys.evaluation(siteId), record, { ifAbsent: true }))) {
    // The same evaluation again is a retry whose first answer was lost: it still finishes the federation when it is the last.
    const stored = await deps.store.get(keys.evaluation(siteId));
    if (stored === null || new TextDecoder().decode(stored) !== JSON.stringify(record)) {
      throw new ConsiliumError("DUPLICATE_EVALUATION", `site ${siteId} already reported its evaluation`, 409);
    }
  }
  const reported = await deps.store.list(keys.evaluationsPrefix);
  if (reported.length >= (await activeSites(deps, config))) {
    const done: FederationState = { ...state, phase: "done", updatedAt: deps.clock.now() };
    await writeJson(deps.store, keys.state, done);
    deps.logger.info("federation done", { modelVersion: state.modelVersion });
    await auditCoordinator(deps, "run.finish", `model/${state.modelVersion}`, { evaluations: reported.length });
    // The site's evaluation is taken whatever befalls the registration; the cron tick finishes it.
    await registerRun(deps).catch((err: unknown) => deps.logger.warn("registering the finished run failed; the next tick retries", { error: (err as Error).message }));
  }
}
