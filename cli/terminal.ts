/**
 * @module
 * The CLI owns the terminal: a progress bar per round and colours on a TTY, plain lines otherwise.
 */
import { SingleBar } from "cli-progress";
import pc from "picocolors";
import type { Logger } from "../core/logger.ts";

export interface Terminal {
  readonly tty: boolean;
  line(text: string): void;
  /** Progress of one round: `done` of `total` sites have sent their update. */
  roundProgress(round: number, rounds: number, done: number, total: number): void;
  finish(): void;
  logger: Logger;
}

export function createTerminal(options: { quiet?: boolean; verbose?: boolean; stream?: NodeJS.WriteStream } = {}): Terminal {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let bar: SingleBar | null = null;
  let barRound = 0;
  const write = (text: string) => {
    if (options.quiet) return;
    if (bar) bar.stop(), (bar = null);
    stream.write(`${text}\n`);
  };
  const log = (level: string, colour: (s: string) => string) => (message: string, fields?: Record<string, unknown>) => {
    if (options.verbose || level !== "info") write(colour(`${level} ${message}${fields ? " " + JSON.stringify(fields) : ""}`));
  };
  return {
    tty,
    line: write,
    roundProgress(round, rounds, done, total) {
      if (options.quiet) return;
      if (!tty) {
        if (done === total) stream.write(`round ${round}/${rounds}: ${done}/${total} sites sent updates\n`);
        return;
      }
      if (!bar || barRound !== round) {
        bar?.stop();
        bar = new SingleBar({ format: `round ${round}/${rounds} {bar} {value}/{total} sites`, stream, clearOnComplete: false, hideCursor: true }, undefined);
        bar.start(total, done);
        barRound = round;
      } else bar.update(done);
    },
    finish() {
      bar?.stop();
      bar = null;
    },
    logger: {
      info: log("info", (s) => s),
      warn: log("warn", tty ? pc.yellow : (s) => s),
      error: log("error", tty ? pc.red : (s) => s),
    },
  };
}
