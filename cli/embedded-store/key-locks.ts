/** Runs tasks for one key one after another, in call order; tasks for other keys run freely. */
export class KeyLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => undefined);
    this.#tails.set(key, settled);
    return run.finally(() => {
      if (this.#tails.get(key) === settled) this.#tails.delete(key);
    });
  }
}
