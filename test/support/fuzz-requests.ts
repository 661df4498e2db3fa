/**
 * @module
 * The fuzz suite's requests: every route of `functions/routes/` with its body schema, a generator
 * of hostile requests to them (bodies from the schema or from a valid body of the federation's
 * phase, then mutated; invalid JSON; wrong, absent or malformed credentials; odd path
 * parameters), and how one such request is sent through the app, in-process.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import type { z } from "zod";
import { encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { countPredictions } from "../../core/metrics/count-predictions.ts";
import { DEFAULT_BINS, type EvalCounts } from "../../core/metrics/eval-counts.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { FeatureSpec } from "../../core/schemas/feature-spec.ts";
import { EnrolRequest, FederationConfig, FederationState } from "../../core/schemas/federation.ts";
import { SiteDecline } from "../../core/schemas/privacy.ts";
import { UpdateManifest } from "../../core/schemas/round.ts";
import { IdentityRegistration, SecurePost } from "../../core/schemas/secure-aggregation.ts";
import { SiteStats } from "../../core/schemas/site-stats.ts";
import { SiteEvaluation } from "../../core/schemas/task.ts";
import { keys } from "../../functions/keys.ts";
import { readJson } from "../../functions/repo.ts";
import { ValidationSet } from "../../functions/use-cases/validation-set.ts";
import { ADMIN_TOKEN, BODY_SIZE, delta, federationConfig, type Harness, type TestSite } from "./coordinator.ts";
import { mutatedText, mutation, type Mutation } from "./json-mutation.ts";
import type { SecureSite } from "./secure-site.ts";
import { arbitraryOf } from "./zod-arbitrary.ts";

/** What a request's caller is, or the header it sends. */
export type Auth = "proper" | "none" | "admin" | "site" | "wrong-secret" | "unknown-site" | { readonly header: string };

export type BodyPlan =
  | { readonly kind: "none" }
  | { readonly kind: "schema"; readonly value: unknown; readonly mutations: readonly Mutation[] }
  | { readonly kind: "valid"; readonly mutations: readonly Mutation[] }
  | { readonly kind: "raw"; readonly text: string };

/** The bytes a site puts where its presigned URL points before it posts a manifest. */
export type UploadPlan = { readonly kind: "honest" } | { readonly kind: "values"; readonly values: readonly number[] } | { readonly kind: "garbage"; readonly bytes: Uint8Array };

export interface RequestPlan {
  /** Milliseconds the clock moves on before the request (a deadline may pass). */
  readonly wait: number;
  readonly endpoint: number;
  readonly wrongMethod: boolean;
  readonly auth: Auth;
  readonly site: number;
  readonly param: string;
  readonly body: BodyPlan;
  readonly upload: UploadPlan;
  readonly contentType: string | null;
  /** Base-model and evaluation counts: `k` scores in the top bin and `k` in the bottom one, or none. */
  readonly counts: number | null;
}

interface Endpoint {
  readonly name: string;
  /** How often the fuzz picks it: routes that change state more often than reads. */
  readonly weight: number;
  readonly method: string;
  readonly path: (param: string) => string;
  readonly admin?: boolean;
  readonly schema?: z.ZodType;
}

/** Every route, as `functions/routes/admin.ts` and `site.ts` declare it. */
export const ENDPOINTS: readonly Endpoint[] = [
  { name: "federation", weight: 1, method: "POST", path: () => "/v1/admin/federation", admin: true, schema: FederationConfig },
  { name: "sites", weight: 1, method: "POST", path: () => "/v1/admin/sites", admin: true, schema: EnrolRequest },
  { name: "status", weight: 1, method: "GET", path: (p) => `/v1/admin/status?rejectionsSkip=${p}`, admin: true },
  { name: "validation", weight: 1, method: "PUT", path: () => "/v1/admin/validation", admin: true, schema: ValidationSet },
  { name: "close-expired", weight: 1, method: "POST", path: () => "/v1/admin/rounds/close-expired", admin: true },
  { name: "task", weight: 1, method: "GET", path: () => "/v1/task" },
  { name: "stats", weight: 3, method: "POST", path: () => "/v1/stats", schema: SiteStats },
  { name: "updates", weight: 4, method: "POST", path: (r) => `/v1/rounds/${r}/updates`, schema: UpdateManifest },
  { name: "declines", weight: 2, method: "POST", path: (r) => `/v1/rounds/${r}/declines`, schema: SiteDecline },
  { name: "identity", weight: 1, method: "POST", path: () => "/v1/identity", schema: IdentityRegistration },
  { name: "secure", weight: 2, method: "POST", path: (r) => `/v1/rounds/${r}/secure`, schema: SecurePost },
  { name: "evaluations", weight: 2, method: "POST", path: () => "/v1/evaluations", schema: SiteEvaluation },
  { name: "models", weight: 1, method: "GET", path: (r) => `/v1/models/${r}` },
];

/** Strings of the test federation that a schema's strings should sometimes be. */
const WORDS = ["age", "sex", "outcome", "M", "F", "1", "float32", "int8", "topk:0.1+int8", "fedavg", "numeric", "categorical", "PRIVACY_BUDGET_EXHAUSTED", "test-fed"];

const schemaBodies = ENDPOINTS.map((e) => (e.schema ? arbitraryOf(e.schema, { words: WORDS }) : fc.constant({})));

/** Path parameters: the current round and its neighbours (filled in when sent), and what no round is. */
const param: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant("{current}"), weight: 8 },
  { arbitrary: fc.constantFrom("{next}", "{previous}", "0", "1"), weight: 3 },
  {
    arbitrary: fc.constantFrom("1e21", "9007199254740993", "9007199254740991", "-1", "1.5", "0x10", "abc", "%ZZ", "%", "%2F", "..", "%00", "١", "9".repeat(8192), "00000000000000001", " 1"),
    weight: 3,
  },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }).map(encodeURIComponent), weight: 1 },
);

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: fc.constant("proper" as const), weight: 24 },
  { arbitrary: fc.constantFrom("none" as const, "admin" as const, "site" as const, "wrong-secret" as const, "unknown-site" as const), weight: 4 },
  { arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,300}$/).map((header) => ({ header })), weight: 1 },
  { arbitrary: fc.constantFrom("Bearer", "Bearer cs_", "Bearer cs__x", "Bearer cs_A_x", "Basic YWRtaW46YWRtaW4=", `bearer ${ADMIN_TOKEN}x`).map((header) => ({ header })), weight: 1 },
);

const invalidJson = fc.oneof(
  fc.constantFrom("", "{", "}", "nul", "[1,]", "{'a':1}", "\ufeff{}", "NaN", "undefined", '"unterminated', '{"a":1}}', "{\"a\":\u0000}", "1e400", "[]", "null", "0", '"x"'),
  fc.string({ maxLength: 64 }),
  fc.integer({ min: 1, max: 200_000 }).map((n) => "[".repeat(n)),
);

/** An update's value: any float32, or one at or past the federation's bound. */
const value = fc.oneof(fc.float(), fc.constantFrom(3.4e38, -3.4e38, 1e4, -1e4, 1e5, Number.NaN, Number.POSITIVE_INFINITY, -0));

const upload: fc.Arbitrary<UploadPlan> = fc.oneof(
  { arbitrary: fc.constant({ kind: "honest" as const }), weight: 3 },
  { arbitrary: fc.array(value, { minLength: BODY_SIZE, maxLength: BODY_SIZE }).map((values) => ({ kind: "values" as const, values })), weight: 2 },
  { arbitrary: fc.array(value, { maxLength: BODY_SIZE + 2 }).map((values) => ({ kind: "values" as const, values })), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: "garbage" as const, bytes })), weight: 1 },
);

/** No mutation a third of the time, else one to `max`. */
const mutations = (max: number): fc.Arbitrary<Mutation[]> =>
  fc.oneof({ arbitrary: fc.constant<Mutation[]>([]), weight: 1 }, { arbitrary: fc.array(mutation, { minLength: 1, maxLength: max }), weight: 2 });

const endpointIndex = fc.oneof(...ENDPOINTS.map((e, i) => ({ arbitrary: fc.constant(i), weight: e.weight })));

/** One hostile request, mostly to the route it means, mostly with a body near what the route parses. */
export const requestPlan: fc.Arbitrary<RequestPlan> = endpointIndex.chain((endpoint) =>
  fc.record({
    wait: fc.oneof({ arbitrary: fc.constant(0), weight: 30 }, { arbitrary: fc.integer({ min: 1, max: 700_000 }), weight: 1 }),
    endpoint: fc.constant(endpoint),
    wrongMethod: fc.oneof({ arbitrary: fc.constant(false), weight: 15 }, { arbitrary: fc.constant(true), weight: 1 }),
    auth,
    site: fc.nat(2),
    param,
    body: fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("valid" as const), mutations: mutations(3) }), weight: 10 },
      { arbitrary: fc.record({ kind: fc.constant("schema" as const), value: schemaBodies[endpoint]!, mutations: mutations(2) }), weight: 6 },
      { arbitrary: fc.record({ kind: fc.constant("raw" as const), text: invalidJson }), weight: 2 },
      { arbitrary: fc.constant({ kind: "none" as const }), weight: 1 },
    ),
    upload,
    counts: fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: fc.constantFrom(0, 1, 3, 2 ** 31, 2 ** 52 - 1), weight: 2 }),
    contentType: fc.oneof({ arbitrary: fc.constant("application/json"), weight: 8 }, { arbitrary: fc.constantFrom(null, "text/plain", "application/json; charset=utf-16", "multipart/form-data; boundary=x"), weight: 1 }),
  }),
);

/** The federation a batch runs against: its sites and its agreed features. */
export interface FuzzTarget {
  readonly h: Harness;
  readonly sites: readonly TestSite[];
  readonly features: FeatureSpec;
  /** Under secure aggregation: each site's identity and round state, in the order of `sites`. */
  readonly secure?: readonly SecureSite[];
}

export interface Outcome {
  readonly plan: RequestPlan;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly text: string;
  /** The answer parsed, or undefined when it is not JSON. */
  readonly body: unknown;
}

/** A valid body for the route in the federation's present state, as the site `site` would send it. */
async function validBody(t: FuzzTarget, endpoint: string, site: TestSite, state: { round: number; modelVersion: number }, plan: RequestPlan): Promise<unknown> {
  const { round, modelVersion } = state;
  const counts = plan.counts === null ? countPredictions(new Float64Array([0.2, 0.8, 0.6]), new Uint8Array([0, 1, 0])) : extremeCounts(plan.counts);
  switch (endpoint) {
    case "federation": return federationConfig();
    case "sites": return { name: "Another Hospital" };
    case "validation": return { columns: ["age", "sex", "outcome"], rows: [["50", "M", "1"], ["60", "F", "0"]] };
    case "stats": return computeSiteStats(site.table, t.features);
    case "updates": return { ...((await manifest(t, site, round, plan.upload)) as object), ...(plan.counts !== null && { baseMetrics: counts }) };
    case "declines": return { round, code: "PRIVACY_BUDGET_EXHAUSTED", message: "budget spent", privacy: { level: "client", epsilon: 5, delta: 1e-5, budget: 5, noiseMultiplier: 1 } };
    case "identity":
    case "secure": {
      const secure = t.secure?.find((x) => x.site === site);
      const request = secure && (await secure.step(t.h, await t.h.task(site)).catch(() => null));
      if (request && request.path.endsWith(endpoint === "identity" ? "/identity" : "/secure")) return request.body;
      if (endpoint === "identity") return { publicKey: "ab".repeat(32) };
      return { kind: "advertise-keys", session: "cd".repeat(32), round, site: 1, cipherPublicKey: "01".repeat(32), maskPublicKey: "02".repeat(32), signature: "03".repeat(64) };
    }
    case "evaluations": return { modelVersion, trainRows: site.table.rows.length, testRows: counts.n, global: counts, personalized: counts, local: counts };
    default: return {};
  }
}

/** Consistent counts of `k` scores of 0.9995 from positives and `k` of 0 from negatives: every total at most 2^53 − 2. */
export function extremeCounts(k: number): EvalCounts {
  const pos = new Array<number>(DEFAULT_BINS).fill(0);
  const neg = new Array<number>(DEFAULT_BINS).fill(0);
  pos[DEFAULT_BINS - 1] = k;
  neg[0] = k;
  return { n: 2 * k, tp: k, fp: 0, tn: k, fn: 0, pos, neg };
}

/** Puts the planned bytes where the site's presigned PUT would, and reports them as an update. */
async function manifest(t: FuzzTarget, site: TestSite, round: number, plan: UploadPlan): Promise<unknown> {
  if (plan.kind === "honest") return t.h.upload(site, round, delta(1 + (round % 5)), site.table.rows.length);
  const bytes = plan.kind === "garbage" ? plan.bytes : container(plan.values);
  await t.h.deps.store.put(keys.updateBin(round, site.siteId), bytes);
  return { round, samples: site.table.rows.length, codec: t.h.codec, byteLength: Math.max(1, bytes.length), sha256: sha256Hex(bytes) };
}

/** A float32 container holding `values` as they are (NaN and ±Infinity too), sealed with a correct checksum. */
function container(values: readonly number[]): Uint8Array {
  const bytes = encodeUpdate(Float32Array.from(values, (v) => (Number.isFinite(v) ? v : 0)), "float32");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  values.forEach((v, i) => view.setFloat32(16 + 4 * i, v, true));
  const end = bytes.length - 32;
  bytes.set(createHash("sha256").update(bytes.subarray(0, end)).digest(), end);
  return bytes;
}

function authorization(plan: RequestPlan, site: TestSite, admin: boolean): string | undefined {
  const a = plan.auth === "proper" ? (admin ? "admin" : "site") : plan.auth;
  if (typeof a === "object") return a.header;
  switch (a) {
    case "none": return undefined;
    case "admin": return `Bearer ${ADMIN_TOKEN}`;
    case "site": return `Bearer ${site.token}`;
    case "wrong-secret": return `Bearer cs_${site.siteId}_${"A".repeat(32)}`;
    case "unknown-site": return `Bearer cs_ghost-${plan.site}_${"B".repeat(32)}`;
  }
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/** Sends one planned request through the app, in-process, and reads its answer. */
export async function send(t: FuzzTarget, plan: RequestPlan): Promise<Outcome> {
  t.h.deps.clock.advance(plan.wait);
  const endpoint = ENDPOINTS[plan.endpoint]!;
  const site = t.sites[plan.site % t.sites.length]!;
  const state = await readJson(t.h.deps.store, keys.state, FederationState);
  const round = Math.max(1, state?.round ?? 1);
  const p = plan.param.replace("{current}", String(round)).replace("{next}", String(round + 1)).replace("{previous}", String(round - 1));
  const path = endpoint.path(p);
  const method = plan.wrongMethod ? METHODS[(METHODS.indexOf(endpoint.method) + 1 + plan.site) % METHODS.length]! : endpoint.method;
  const paramRound = /^\d{1,6}$/.test(p) ? Number(p) : round;
  let body: string | undefined;
  if (plan.body.kind === "raw") body = plan.body.text;
  else if (plan.body.kind === "schema") body = mutatedText(plan.body.value, plan.body.mutations);
  else if (plan.body.kind === "valid") body = mutatedText(await validBody(t, endpoint.name, site, { round: paramRound, modelVersion: state?.modelVersion ?? 0 }, plan), plan.body.mutations);
  const headers: Record<string, string> = {};
  const auth = authorization(plan, site, endpoint.admin ?? false);
  if (auth !== undefined) headers.authorization = auth;
  if (plan.contentType !== null) headers["content-type"] = plan.contentType;
  const res = await t.h.app.request(path, { method, headers, ...(body !== undefined && method !== "GET" && { body }) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { plan, method, path, status: res.status, text, body: parsed };
}
