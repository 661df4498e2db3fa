import type { Aggregator, ServerStep, UpdateTransform } from "./stage.ts";
import type { AggregateResult, SiteUpdate, Strategy, StrategyState } from "./strategy.ts";
import { skipReason } from "./weighted-mean.ts";

export interface PipelineStages {
  readonly transforms: readonly UpdateTransform[];
  readonly aggregator: Aggregator;
  readonly server: ServerStep;
}

/** The keys of `state` under `prefix.`, without it. */
function scoped(state: StrategyState, prefix: string): StrategyState {
  const scalars: Record<string, number> = {};
  const vectors: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(state.scalars)) if (k.startsWith(prefix)) scalars[k.slice(prefix.length)] = v;
  for (const [k, v] of Object.entries(state.vectors)) if (k.startsWith(prefix)) vectors[k.slice(prefix.length)] = v;
  return { scalars, vectors };
}

/** The keys without a "." (the server step's), and the aggregator's under `name.`. */
function joined(server: StrategyState, aggregator: StrategyState, name: string): StrategyState {
  const scalars: Record<string, number> = { ...server.scalars };
  const vectors: Record<string, Float32Array> = { ...server.vectors };
  for (const [k, v] of Object.entries(aggregator.scalars)) scalars[`${name}.${k}`] = v;
  for (const [k, v] of Object.entries(aggregator.vectors)) vectors[`${name}.${k}`] = v;
  return { scalars, vectors };
}

const rootOf = (state: StrategyState): StrategyState => ({
  scalars: Object.fromEntries(Object.entries(state.scalars).filter(([k]) => !k.includes("."))),
  vectors: Object.fromEntries(Object.entries(state.vectors).filter(([k]) => !k.includes("."))),
});

/**
 * A strategy made of stages: each transform in order, then the aggregator, then the server step.
 * Sites of weight 0 are dropped before the first transform, so neither transforms nor the
 * aggregator ever see them; the server step gets every update (SCAFFOLD reads their controls).
 * The state is the server step's keys as they are plus the aggregator's under `<name>.`
 * (transforms keep none), so stages never collide and the strategies that predate composition
 * keep the layout their stored states already have.
 *
 * @example
 * pipeline({ transforms: [clipMedian(3)], aggregator: geomed(), server: sgd(1) }).spec; // "clip-median:3,geomed"
 */
export function pipeline({ transforms, aggregator, server }: PipelineStages): Strategy {
  const spec = [...transforms.map((t) => t.spec), aggregator.spec, server.spec].filter((s) => s !== "").join(",");
  const linear = transforms.length === 0 && aggregator.name === "mean";
  return {
    spec,
    ...(linear && {
      fromMean(global: Float32Array, mean: SiteUpdate, state: StrategyState): AggregateResult {
        // The mean as the round's one update of weight 1: a step that averages controls (SCAFFOLD) gets them back unchanged.
        const stepped = server.step(global, mean.delta, rootOf(state), [{ ...mean, weight: 1 }]);
        return { kind: "model", model: stepped.model, state: joined(stepped.state, scoped(state, `${aggregator.name}.`), aggregator.name) };
      },
    }),
    ...(server.controlVariates && { controlVariates: true }),
    init: (dim) => joined(server.init(dim), aggregator.init(dim), aggregator.name),
    aggregate({ global, updates }, state) {
      const reason = skipReason(updates);
      if (reason) return { kind: "skip", reason, state };
      const dim = global.length;
      for (const u of updates) {
        if (u.delta.length !== dim) throw new Error(`update from ${u.siteId} has ${u.delta.length} values, expected ${dim}`);
      }
      let active = updates.filter((u) => u.weight > 0);
      for (const t of transforms) active = t.apply(active, dim);
      const delta = new Float32Array(dim);
      const aggregated = aggregator.aggregate(active, scoped(state, `${aggregator.name}.`), delta);
      const stepped = server.step(global, delta, rootOf(state), updates);
      return { kind: "model", model: stepped.model, state: joined(stepped.state, aggregated, aggregator.name) };
    },
  };
}
