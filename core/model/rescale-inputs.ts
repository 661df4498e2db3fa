/**
 * @module
 * A body trained under one preprocessing, carried to another with the same inputs: the first
 * layer is rewritten so that it computes the same function of the raw values. A numeric input
 * standardised as (v − m₀)/s₀ is now (v − m₁)/s₁, so x₀ = a·x₁ + c with a = s₁/s₀ and
 * c = (m₁ − m₀)/s₀; the layer's kernel row is scaled by a and its bias takes W·c. One-hot and
 * missing-indicator inputs are unchanged. Exact for observed values; an imputed value follows the
 * new preprocessing's imputation.
 */
import type { Preprocessing } from "../schemas/preprocessing.ts";
import type { Layout } from "./layout.ts";

/** Per input: the affine map x₀ = a·x₁ + c from the new input to the old one. */
function inputMaps(from: Preprocessing, to: Preprocessing): { a: number; c: number }[] {
  const maps: { a: number; c: number }[] = [];
  to.features.forEach((f, k) => {
    const old = from.features[k];
    if (f.kind === "numeric" && old?.kind === "numeric") {
      maps.push({ a: f.sd / old.sd, c: (f.mean - old.mean) / old.sd });
      if (f.missingIndicator) maps.push({ a: 1, c: 0 });
    } else if (f.kind === "categorical") {
      for (let l = 1; l < f.levels.length; l++) maps.push({ a: 1, c: 0 });
    } else {
      throw new Error(`feature ${f.name} is numeric now and was not: the inputs differ`);
    }
  });
  return maps;
}

/**
 * `body` (trained under `from`) rewritten for inputs made by `to`. Both must make the same inputs
 * (`inputs` equal): a RangeError otherwise.
 *
 * @example
 * const warm = rescaleInputs(layout, parentBody, parentPreprocessing, runPreprocessing);
 */
export function rescaleInputs(layout: Layout, body: Float32Array, from: Preprocessing, to: Preprocessing): Float32Array {
  if (from.inputs.join("\n") !== to.inputs.join("\n")) throw new RangeError("the two preprocessings make different inputs");
  const kernel = layout.body.find((s) => s.name.endsWith("/kernel"));
  const bias = kernel && layout.body.find((s) => s.name === kernel.name.replace(/\/kernel$/, "/bias"));
  if (!kernel || !bias) throw new RangeError("the layout has no first layer");
  const [fanIn = 0, fanOut = 0] = kernel.shape;
  const maps = inputMaps(from, to);
  if (maps.length !== fanIn) throw new RangeError(`the preprocessing makes ${maps.length} inputs, the first layer takes ${fanIn}`);
  const out = Float32Array.from(body);
  for (let h = 0; h < fanOut; h++) {
    let shift = 0;
    for (let j = 0; j < fanIn; j++) {
      const w = body[kernel.offset + j * fanOut + h] ?? 0;
      out[kernel.offset + j * fanOut + h] = w * maps[j]!.a;
      shift += w * maps[j]!.c;
    }
    out[bias.offset + h] = (body[bias.offset + h] ?? 0) + shift;
  }
  return out;
}
