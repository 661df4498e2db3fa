import { ConfigError } from "../errors.ts";
import { fedAdam } from "./fedadam.ts";
import { fedAvg } from "./fedavg.ts";
import type { Strategy } from "./strategy.ts";

type Factory = (args: number[]) => Strategy;

const registry: Record<string, Factory> = {
  fedavg: ([lr]) => fedAvg(lr),
  fedadam: ([lr, beta1, beta2, tau]) => fedAdam({ lr, beta1, beta2, tau }),
};

/** Builds a strategy from its spec, `name[:arg[:arg…]]`, e.g. `fedavg` or `fedadam:0.05`. */
export function createStrategy(spec: string): Strategy {
  const [name = "", ...rest] = spec.trim().split(":");
  const factory = registry[name];
  if (!factory) throw new ConfigError(`unknown strategy "${name}" (known: ${Object.keys(registry).join(", ")})`);
  const args = rest.map((a) => {
    const n = Number(a);
    if (a === "" || !Number.isFinite(n)) throw new ConfigError(`strategy "${name}" argument "${a}" is not a number`);
    return n;
  });
  return factory(args);
}

export const strategyNames = (): string[] => Object.keys(registry);
