import { z } from "zod";

/**
 * How much an update counts for, given its staleness s (server versions elapsed since the one it
 * was trained from). The forms are FedAsync's (Xie et al. 2019, "Asynchronous Federated
 * Optimization"): constant 1; polynomial (1 + s)^−a; hinge 1 up to s = b, then 1/(a(s − b) + 1).
 */
export const StalenessWeighting = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("constant") }),
  /** FedBuff and FedAsync default to a = 0.5. */
  z.object({ kind: z.literal("polynomial"), a: z.number().nonnegative().max(10).default(0.5) }),
  z.object({ kind: z.literal("hinge"), a: z.number().nonnegative().max(100), b: z.number().int().min(0).max(10_000) }),
]);
export type StalenessWeighting = z.infer<typeof StalenessWeighting>;

/**
 * Buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022): the server applies its buffer
 * every `bufferSize` admitted updates and refuses updates more than `maxStaleness` versions old.
 * The record of flushed updates kept for duplicate detection grows with `maxStaleness`
 * (`BufferState`), hence its cap.
 *
 * @example
 * const policy = AsyncPolicy.parse({ bufferSize: 10, maxStaleness: 20 }); // weighting: polynomial, a = 0.5
 */
export const AsyncPolicy = z.object({
  bufferSize: z.number().int().min(1).max(10_000),
  maxStaleness: z.number().int().min(0).max(1_000),
  weighting: StalenessWeighting.default({ kind: "polynomial", a: 0.5 }),
});
export type AsyncPolicy = z.infer<typeof AsyncPolicy>;
