import { ConfigError } from "../errors.ts";
import { fedAdam } from "./fedadam.ts";
import { fedAvg } from "./fedavg.ts";
import { scaffold } from "./scaffold.ts";
import type { Strategy } from "./strategy.ts";

interface Entry {
  /** Arguments the spec may carry; more is a configuration error, not something to drop silently. */
  readonly maxArgs: number;
  readonly make: (args: number[]) => Strategy;
}

// A Map, so that names such as "constructor" or "__proto__" are unknown rather than inherited.
const registry = new Map<string, Entry>([
  ["fedavg", { maxArgs: 1, make: ([lr]) => fedAvg(lr) }],
  ["fedadam", { maxArgs: 4, make: ([lr, beta1, beta2, tau]) => fedAdam({ lr, beta1, beta2, tau }) }],
  ["scaffold", { maxArgs: 1, make: ([lr]) => scaffold(lr) }],
]);

/** Builds a strategy from its spec, `name[:arg[:arg…]]`, e.g. `fedavg` or `fedadam:0.05`. */
export function createStrategy(spec: string): Strategy {
  const [name = "", ...rest] = spec.trim().split(":");
  const entry = registry.get(name);
  if (!entry) throw new ConfigError(`unknown strategy "${name}" (known: ${strategyNames().join(", ")})`);
  if (rest.length > entry.maxArgs) {
    throw new ConfigError(`strategy "${name}" takes at most ${entry.maxArgs} argument${entry.maxArgs === 1 ? "" : "s"}, got ${rest.length}`);
  }
  const args = rest.map((a) => {
    const n = Number(a);
    if (a === "" || !Number.isFinite(n)) throw new ConfigError(`strategy "${name}" argument "${a}" is not a number`);
    return n;
  });
  return entry.make(args);
}

export const strategyNames = (): string[] => [...registry.keys()];
