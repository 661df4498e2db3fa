/**
 * @module
 * Picks the fastest TensorFlow.js backend present on this machine: tfjs-node-gpu (CUDA), then
 * tfjs-node (native CPU), then WebAssembly with SIMD, then plain JavaScript. The native packages are
 * optional dependencies: their install fails where libtensorflow cannot be downloaded.
 */
import * as tf from "@tensorflow/tfjs-core";

export const BackendName = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"] as const;
export type BackendName = (typeof BackendName)[number];

const loaders: Record<BackendName, () => Promise<string>> = {
  "tfjs-node-gpu": async () => (await importOptional("@tensorflow/tfjs-node-gpu"), "tensorflow"),
  "tfjs-node": async () => (await importOptional("@tensorflow/tfjs-node"), "tensorflow"),
  wasm: async () => (await import("@tensorflow/tfjs-backend-wasm"), "wasm"),
  cpu: async () => (await import("@tensorflow/tfjs-backend-cpu"), "cpu"),
};

function importOptional(name: string): Promise<unknown> {
  return import(name);
}

let chosen: BackendName | null = null;

/**
 * Initialises the first backend that loads, or exactly `prefer` when given, and says which ran.
 * @example
 * const backend = await selectBackend(); // "wasm" on a machine without libtensorflow
 */
export async function selectBackend(prefer?: BackendName): Promise<BackendName> {
  if (chosen && (!prefer || prefer === chosen)) return chosen;
  const order = prefer ? [prefer] : BackendName;
  const failures: string[] = [];
  for (const name of order) {
    const failure = await tryBackend(name);
    if (failure === null) return name;
    failures.push(`${name}: ${failure.split("\n")[0]}`);
  }
  throw new Error(`no TensorFlow.js backend could start (${failures.join("; ")})`);
}

/**
 * Loads `name` and makes it TensorFlow.js's backend; answers why it could not (the loader's whole
 * error, which for the native backends names the missing package or shared library), or null.
 */
export async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    const id = await loaders[name]();
    if (!(await tf.setBackend(id))) return "backend did not initialise";
    await tf.ready();
    if (id === "cpu") firstWriteQuietly();
    chosen = name;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * The cpu backend's first tensor write in Node prints a banner urging tfjs-node, which the order above
 * already prefers. tfjs's `PROD` flag (in 4.22 it gates only tfjs's console warnings) is on for that one
 * write and restored after, so later warnings, such as why a backend failed to initialise, still print.
 */
function firstWriteQuietly(): void {
  const env = tf.env();
  const prod = env.getBool("PROD");
  env.set("PROD", true);
  try {
    tf.scalar(0).dispose();
  } finally {
    env.set("PROD", prod);
  }
}
