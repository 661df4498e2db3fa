/**
 * @module
 * A site's one noisy release of its statistics, kept under its state folder: a runner restarted
 * before the coordinator took its statistics sends the same release again instead of drawing (and
 * spending its privacy budget) a second time.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { writeStateFile } from "../session/state-files.ts";

const FILE = "stats-release.json";

/** The release kept for federation `federation` with this noise; null when there is none (or it was another's). */
const Release = z.object({ federation: z.string(), noise: z.object({ epsilon: z.number(), delta: z.number() }), stats: SiteStats });

/**
 * The release saved for this federation and noise, or the one `draw` makes now, saved (written
 * beside and renamed over) before it is returned. Without a state folder, `draw` as it is.
 */
export async function keptRelease(dir: string | undefined, key: { federation: string; noise: { epsilon: number; delta: number } }, draw: () => SiteStats): Promise<SiteStats> {
  if (!dir) return draw();
  const file = join(dir, FILE);
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw new ConsiliumError("CORRUPT_STATE", `noisy statistics ${file} cannot be read: ${err.message}`, 500);
  });
  if (text !== null) {
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: refused below with the file named.
    }
    const saved = Release.safeParse(json);
    if (!saved.success) throw new ConsiliumError("CORRUPT_STATE", `noisy statistics ${file} are unreadable; remove the file only if they were never sent`, 500);
    if (saved.data.federation === key.federation && saved.data.noise.epsilon === key.noise.epsilon && saved.data.noise.delta === key.noise.delta) return saved.data.stats;
  }
  const stats = draw();
  await writeStateFile(dir, FILE, JSON.stringify({ ...key, stats }));
  return stats;
}
