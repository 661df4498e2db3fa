import type { Layout } from "../../core/model/layout.ts";
import type { Dataset } from "../../core/preprocess/transform.ts";
import { dpSgd, type DpSgdOptions } from "../privacy/dp-sgd.ts";
import { trainBody, type TrainOptions } from "./train.ts";

export interface Controls {
  /** The server's control variate `c`. */
  readonly server: Float32Array;
  /** This site's control variate `c_i`. */
  readonly site: Float32Array;
}

export interface LocalRound {
  /** The body delta, followed by the control delta when controls were given. */
  readonly update: Float32Array;
  /** The site's new control variate, when controls were given. */
  readonly siteControl: Float32Array | null;
  readonly loss: number;
  /** Minibatch steps taken (noisy steps, under DP-SGD: what the privacy accountant counts). */
  readonly steps: number;
}

/**
 * One round of local training from `base`. With controls, each gradient is corrected by
 * `c - c_i` and the site's control moves as in SCAFFOLD option II (Karimireddy et al. 2020):
 * `c_i+ = c_i - c + (x - y) / (K·lr)`. With `opts.dp`, training is DP-SGD (`dp-sgd.ts`); the
 * control then derives from the privatised trajectory, which costs no further privacy.
 */
export function localRound(layout: Layout, base: Float32Array, data: Dataset, opts: TrainOptions & { readonly dp?: DpSgdOptions }, controls: Controls | null): LocalRound {
  const n = base.length;
  const correction = controls ? controls.server.map((v, i) => v - (controls.site[i] ?? 0)) : undefined;
  const { dp, ...plain } = opts;
  // DP-SGD bounds each row's gradient of the body alone; a head fitted on the rows without noise would escape that bound (the coordinator refuses fedrep under sample-level privacy).
  if (dp && opts.head) throw new Error("DP-SGD cannot train the body with a personal head in place");
  const result = dp ? dpSgd(layout, base, data, { ...plain, correction, dp }) : trainBody(layout, base, data, { ...plain, correction });
  const update = new Float32Array(controls ? 2 * n : n);
  for (let i = 0; i < n; i++) update[i] = (result.params[i] ?? 0) - (base[i] ?? 0);
  if (!controls) return { update, siteControl: null, loss: result.loss, steps: result.steps };
  // No step taken (no rows): the site learnt nothing about its gradient, so its control stays.
  if (result.steps === 0) return { update, siteControl: Float32Array.from(controls.site), loss: result.loss, steps: 0 };
  const siteControl = new Float32Array(n);
  const scale = 1 / (Math.max(1, result.steps) * opts.learningRate);
  for (let i = 0; i < n; i++) {
    const ci = controls.site[i] ?? 0;
    siteControl[i] = ci - (controls.server[i] ?? 0) - (update[i] ?? 0) * scale;
    update[n + i] = (siteControl[i] ?? 0) - ci;
  }
  return { update, siteControl, loss: result.loss, steps: result.steps };
}
