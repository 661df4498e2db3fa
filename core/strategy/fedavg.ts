import { mean } from "./mean.ts";
import { pipeline } from "./pipeline.ts";
import { sgd } from "./sgd.ts";
import type { Strategy } from "./strategy.ts";

/**
 * FedAvg (McMahan et al. 2017): the new body is the old one plus the sample-weighted mean delta,
 * scaled by a server learning rate (1 by default). The spec `fedavg[:LR]` is the pipeline
 * `mean,sgd[:LR]`.
 */
export function fedAvg(serverLr = 1): Strategy {
  return pipeline({ transforms: [], aggregator: mean(), server: sgd(serverLr, "fedavg") });
}
