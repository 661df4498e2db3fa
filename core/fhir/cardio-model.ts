/**
 * @module
 * The known logistic model the synthetic cohort draws its outcome from, on the default CDM's
 * features:
 *
 *   logit P(cvd_event) = intercept + site riskOffset + Σ beta × (x − center) / scale
 *
 * | feature | center | scale | beta | per |
 * |---|---|---|---|---|
 * | age | 55 | 10 | +0.55 | 10 years |
 * | male | 0 | 1 | +0.45 | male vs female |
 * | sbp | 130 | 20 | +0.50 | 20 mm[Hg] |
 * | chol | 200 | 40 | +0.35 | 40 mg/dL |
 * | hba1c | 5.7 | 1 | +0.30 | 1 % (NGSP) |
 * | bmi | 27 | 5 | −0.30 | 5 kg/m2 |
 * | smoker | 0 | 1 | +0.70 | current smoker |
 * | diabetes | 0 | 1 | +0.50 | diagnosed |
 *
 * Intercept −2.2. The BMI coefficient is negative on purpose (adjusted for blood pressure and
 * HbA1c, which BMI raises), so that a fitted model's signs are a real check; none of this is a
 * clinical claim. `x` is the feature as the default CDM computes it from the site's readings
 * before any site artefact (measurement shift, unit error, missingness, label noise).
 */

export const CARDIO_FEATURES = ["age", "male", "sbp", "chol", "hba1c", "bmi", "smoker", "diabetes"] as const;
export type CardioFeature = (typeof CARDIO_FEATURES)[number];
export type CardioValues = Record<CardioFeature, number>;

export interface ModelTerm {
  readonly center: number;
  readonly scale: number;
  readonly beta: number;
}

export const CARDIO_MODEL: { readonly intercept: number; readonly terms: Readonly<Record<CardioFeature, ModelTerm>> } = {
  intercept: -2.2,
  terms: {
    age: { center: 55, scale: 10, beta: 0.55 },
    male: { center: 0, scale: 1, beta: 0.45 },
    sbp: { center: 130, scale: 20, beta: 0.5 },
    chol: { center: 200, scale: 40, beta: 0.35 },
    hba1c: { center: 5.7, scale: 1, beta: 0.3 },
    bmi: { center: 27, scale: 5, beta: -0.3 },
    smoker: { center: 0, scale: 1, beta: 0.7 },
    diabetes: { center: 0, scale: 1, beta: 0.5 },
  },
};

/** The model's log-odds for one patient, with a site's offset. */
export function cardioLogit(x: CardioValues, offset = 0): number {
  let z = CARDIO_MODEL.intercept + offset;
  for (const f of CARDIO_FEATURES) {
    const t = CARDIO_MODEL.terms[f];
    z += (t.beta * (x[f] - t.center)) / t.scale;
  }
  return z;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
