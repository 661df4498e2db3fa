/** Object-store keys of one federation's state (see docs/architecture.md). */
export const keys = {
  federation: "federation.json",
  state: "state.json",
  preprocessing: "preprocessing.json",
  site: (id: string) => `sites/${id}.json`,
  sites: "sites/",
  stats: (id: string) => `stats/${id}.json`,
  statsPrefix: "stats/",
  round: (r: number) => `rounds/${pad(r)}/round.json`,
  updateBin: (r: number, site: string) => `rounds/${pad(r)}/updates/${site}.bin`,
  updateManifest: (r: number, site: string) => `rounds/${pad(r)}/updates/${site}.json`,
  updatesPrefix: (r: number) => `rounds/${pad(r)}/updates/`,
  strategyState: (r: number) => `rounds/${pad(r)}/strategy-state.bin`,
  roundsPrefix: "rounds/",
  modelWeights: (v: number) => `models/${pad(v)}/weights.bin`,
  modelManifest: (v: number) => `models/${pad(v)}/manifest.json`,
  modelControl: (v: number) => `models/${pad(v)}/control.bin`,
  evaluation: (site: string) => `evaluations/${site}.json`,
  evaluationsPrefix: "evaluations/",
  audit: (seq: string) => `audit/${seq}.json`,
  rejection: (id: string) => `rejections/${id}.json`,
  rejectionsPrefix: "rejections/",
};

/** Zero-padded so that lexicographic listing is numeric order. */
function pad(n: number): string {
  return String(n).padStart(6, "0");
}
