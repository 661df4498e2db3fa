/**
 * @module
 * The CLI owns the terminal: a progress bar per round and colours on a TTY, plain lines otherwise.
 */
import { SingleBar } from "cli-progress";
import pc from "picocolors";
import type { Logger } from "../core/logger.ts";
import { processIo, type CommandIo } from "./commands/flags.ts";

export interface Terminal {
  readonly tty: boolean;
  /** Progress and notes: dropped under `quiet`. */
  line(text: string): void;
  /** Results: always printed, on the output stream. */
  result(text: string): void;
  /** Progress of one round: `done` of `total` sites have sent their update. */
  roundProgress(round: number, rounds: number, done: number, total: number): void;
  finish(): void;
  logger: Logger;
}

/**
 * Progress, notes and warnings on `io.err`, results on `io.out`. `quiet` drops progress and notes,
 * never results, warnings or errors. A progress bar only on the process's own terminal.
 */
export function createTerminal(options: { quiet?: boolean; verbose?: boolean; io?: CommandIo } = {}): Terminal {
  const io = options.io ?? processIo;
  const stream = process.stderr;
  const tty = io === processIo && Boolean(stream.isTTY) && !process.env.CI;
  let bar: SingleBar | null = null;
  let barRound = 0;
  const stopBar = () => {
    if (bar) bar.stop(), (bar = null);
  };
  const always = (text: string) => {
    stopBar();
    io.err(text);
  };
  const write = (text: string) => {
    if (!options.quiet) always(text);
  };
  const log = (level: string, colour: (s: string) => string) => (message: string, fields?: Record<string, unknown>) => {
    const text = colour(`${level} ${message}${fields ? " " + JSON.stringify(fields) : ""}`);
    if (level !== "info") always(text);
    else if (options.verbose) write(text);
  };
  return {
    tty,
    line: write,
    result(text) {
      stopBar();
      io.out(text);
    },
    roundProgress(round, rounds, done, total) {
      if (options.quiet) return;
      if (!tty) {
        if (done === total) io.err(`round ${round}/${rounds}: ${done}/${total} sites sent updates`);
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
