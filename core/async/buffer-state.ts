import { z } from "zod";

/**
 * One update as the server learns of it: who sent it, the model version it was trained from,
 * its samples, and a key naming its bytes (a content hash or its object key). The vector stays
 * in storage; site, base version and key together identify the update.
 */
export const Arrival = z.object({
  siteId: z.string().min(1).max(200),
  baseVersion: z.number().int().min(0),
  samples: z.number().int().positive(),
  key: z.string().min(1).max(1024),
});
export type Arrival = z.infer<typeof Arrival>;

/** An update in a flush: its staleness at arrival and its weight, samples × staleness weight. */
export const FlushEntry = Arrival.extend({
  staleness: z.number().int().min(0),
  weight: z.number().positive(),
});
export type FlushEntry = z.infer<typeof FlushEntry>;

/** One application of the buffer: the server version it produced and the updates applied, in order. */
export const FlushRecord = z.object({
  version: z.number().int().min(1),
  entries: z.array(FlushEntry),
});
export type FlushRecord = z.infer<typeof FlushRecord>;

/**
 * The server side of buffered asynchronous aggregation as plain data, saved between stateless
 * invocations. `version` is the model version sites pull (each flush adds one); `pending` holds
 * the updates admitted since the last flush, in arrival order; `flushed` holds the last
 * `maxStaleness + 1` flushes, oldest first. That is enough to apply no update twice: a repeat of
 * an update flushed before them is more than `maxStaleness` versions old and refused as stale
 * (the last `maxStaleness` flushes would do; the one more reports a repeat of the latest flush
 * as a duplicate even at `maxStaleness` 0). It holds at most (maxStaleness + 1) × bufferSize
 * entries.
 */
export const BufferState = z.object({
  version: z.number().int().min(0),
  pending: z.array(Arrival),
  flushed: z.array(FlushRecord),
});
export type BufferState = z.infer<typeof BufferState>;

/** The state before any update: nothing buffered, nothing flushed, at `version` (0 by default). */
export function emptyBuffer(version = 0): BufferState {
  return { version, pending: [], flushed: [] };
}
