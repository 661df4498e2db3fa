/**
 * @module
 * NDJSON lines from chunks of any size (strings, or UTF-8 bytes from a file or S3 stream), without
 * holding more than one chunk and one partial line.
 */

export type NdjsonChunks = string | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/**
 * Cuts chunks into lines; `end` flushes a last line without a newline. A "\r" before the newline
 * stays on the line (JSON.parse reads it as whitespace).
 */
export class LineSplitter {
  private rest = "";
  private readonly decoder = new TextDecoder("utf-8");

  push(chunk: string | Uint8Array, onLine: (line: string) => void): void {
    const text = this.rest + (typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true }));
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(onLine: (line: string) => void): void {
    const text = this.rest + this.decoder.decode();
    this.rest = "";
    if (text !== "") onLine(text);
  }
}

/** Feeds every line of `source` to `onLine`, chunk by chunk. */
export async function forEachLine(source: NdjsonChunks, onLine: (line: string) => void): Promise<void> {
  const splitter = new LineSplitter();
  if (typeof source === "string") splitter.push(source, onLine);
  else if (Symbol.asyncIterator in source) for await (const chunk of source) splitter.push(chunk, onLine);
  else for (const chunk of source) splitter.push(chunk, onLine);
  splitter.end(onLine);
}
