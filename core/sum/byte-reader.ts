import { UpdateFormatError } from "../errors.ts";

/**
 * Reads exact byte counts from a stream of chunks of any size (an S3 response body, a file),
 * pulling only as much as it is asked for: at most one chunk of the stream is held besides the
 * caller's buffer, which is what keeps an aggregator that reads many updates side by side small.
 *
 * @example
 * const reader = new ByteReader(body);
 * await reader.readInto(header);   // exactly header.length bytes, or TRUNCATED
 * await reader.expectEnd();         // nothing may follow
 */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #pending: Uint8Array = new Uint8Array(0);
  #done = false;
  /** Bytes handed out so far. */
  position = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** Fills `target` entirely; `UpdateFormatError` TRUNCATED when the stream ends first. */
  async readInto(target: Uint8Array): Promise<void> {
    let filled = 0;
    while (filled < target.length) {
      if (this.#pending.length === 0 && !(await this.#pull())) {
        throw new UpdateFormatError("TRUNCATED", `update ends after ${this.position + filled} bytes, more were expected`);
      }
      const n = Math.min(this.#pending.length, target.length - filled);
      target.set(this.#pending.subarray(0, n), filled);
      this.#pending = this.#pending.subarray(n);
      filled += n;
    }
    this.position += filled;
  }

  /** `UpdateFormatError` SIZE_MISMATCH when anything follows what was read. */
  async expectEnd(): Promise<void> {
    while (this.#pending.length === 0) if (!(await this.#pull())) return;
    throw new UpdateFormatError("SIZE_MISMATCH", `update has more than the ${this.position} bytes its header implies`);
  }

  /** Stops the stream early (releases an HTTP connection); safe to call more than once. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#pending = new Uint8Array(0);
    await this.#iterator.return?.();
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#iterator.next();
    if (next.done) {
      this.#done = true;
      return false;
    }
    this.#pending = next.value;
    return true;
  }
}
