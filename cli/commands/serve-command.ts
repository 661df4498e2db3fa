/**
 * @module
 * `consilium site serve`: the site's personal model behind a local HTTP endpoint, until
 * SIGINT/SIGTERM. `POST /v1/predict` scores rows given as JSON with the model's own preprocessing,
 * `GET /v1/model` says which model and what it reads, `GET /healthz` answers while it runs. A
 * model the runner saves in the state folder is picked up at the next request, without a restart.
 */
import { getRequestListener } from "@hono/node-server";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { ConsiliumError } from "../../core/errors.ts";
import { decide, loadLocalModel, ModelFeature, modelFeatures, modelStamp, RowProblemCode, scoreLocalRows, type LocalModel } from "../../gpu-runner/model/local-model.ts";
import { listenOn } from "./listen-on.ts";
import { boolFlag, intFlag, parseFlags, processIo, textFlag, UsageError, type CommandIo, type CommandSpec } from "./flags.ts";
import { kClassThreshold, modelName, modelSourceFlags, modelSourceHelp, openSiteModel, sameSite, sameSiteMessage, thresholdFlag, thresholdSource } from "./predict-command.ts";

/** Most rows one request may carry. */
export const MAX_ROWS = 10_000;
/** Largest request body, in bytes (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Most bad cells one 422 answer lists; its message counts them all. */
export const MAX_LISTED = 100;

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

export const ServeFlags = z
  .object({
    port: intFlag(0, 65535),
    host: textFlag().default("127.0.0.1"),
    "allow-remote": boolFlag(),
    ...modelSourceFlags,
    threshold: thresholdFlag().optional(),
  })
  .refine(sameSite, sameSiteMessage)
  .refine((f) => f["allow-remote"] || LOOPBACK.test(f.host), {
    path: ["host"],
    message: "not a loopback address: anyone who reaches this machine there could score rows with the site's model, and the endpoint asks for no credential; give --allow-remote to serve on it anyway (behind the hospital's own access control)",
  });
export type ServeFlags = z.infer<typeof ServeFlags>;

export const serveSpec: CommandSpec<typeof ServeFlags> = {
  name: "site serve",
  summary:
    "Serves the site's personalized model on a local HTTP endpoint until SIGINT/SIGTERM: POST /v1/predict scores JSON rows with the consortium's preprocessing the model carries, GET /v1/model names the model, its features and threshold, GET /healthz. A model the runner saves in the state folder is picked up at the next request.",
  schema: ServeFlags,
  flags: {
    port: { type: "string", value: "N", help: "port to listen on; 0 picks a free one" },
    host: { type: "string", value: "H", help: "address to bind (default 127.0.0.1; only loopback addresses without --allow-remote)" },
    "allow-remote": { type: "boolean", help: "allow a --host other machines reach (e.g. 0.0.0.0): the endpoint has no authentication and speaks plain http, so put the hospital's own access control in front" },
    ...modelSourceHelp,
    threshold: { type: "string", value: "T", help: "the operating threshold: decision 1 at a score at or above it (default: the model's, 0.5, the one its evaluation counts use)" },
  },
};

/** One row: column → value; cells of columns the model does not read, the label's included, are ignored. */
const Cell = z.union([z.string(), z.number()]);
export const PredictRequest = z.object({ rows: z.array(z.record(z.string(), Cell)).max(MAX_ROWS) });
export type PredictRequest = z.infer<typeof PredictRequest>;

/**
 * One row's prediction: a binary model's score (probability of the positive class) and decision at
 * the threshold; a K-class model's most probable class, its probability as the score, and every
 * class's probability.
 */
export const Prediction = z.union([
  z.object({ score: z.number().min(0).max(1), decision: z.union([z.literal(0), z.literal(1)]) }).strict(),
  z.object({ class: z.string(), score: z.number().min(0).max(1), probabilities: z.record(z.string(), z.number().min(0).max(1)) }).strict(),
]);
export type Prediction = z.infer<typeof Prediction>;
/** `threshold` is null for a K-class model, which decides by its most probable class. */
export const PredictAnswer = z.object({ modelVersion: z.number().int().nonnegative(), siteId: z.string().nullable(), threshold: z.number().nullable(), predictions: z.array(Prediction) });
export type PredictAnswer = z.infer<typeof PredictAnswer>;

export const ModelAnswer = z.object({
  modelVersion: z.number().int().nonnegative(),
  siteId: z.string().nullable(),
  federation: z.string().nullable(),
  savedAt: z.string(),
  /** Null for a K-class model, which decides by its most probable class. */
  threshold: z.number().nullable(),
  /** The label column: a row may carry it, and nothing reads it. */
  label: z.string(),
  /** A K-class model's classes, in order; absent for a binary model. */
  classes: z.array(z.string()).optional(),
  features: z.array(ModelFeature),
  /** The model's inputs after preprocessing, in order. */
  inputs: z.array(z.string()),
});
export type ModelAnswer = z.infer<typeof ModelAnswer>;

/** One cell that kept a request from being scored: `index` is the row's position in `rows`, from 0. */
export const BadRow = z.object({ index: z.number().int().nonnegative(), column: z.string(), code: z.union([RowProblemCode, z.literal("INVALID_VALUE")]), reason: z.string() });
export type BadRow = z.infer<typeof BadRow>;

export const ErrorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string(), rows: z.array(BadRow).optional() }) });
export type ErrorAnswer = z.infer<typeof ErrorAnswer>;

const fail = (c: Context, status: 400 | 404 | 413 | 422 | 500, code: string, message: string, rows?: BadRow[]) =>
  c.json({ error: { code, message, ...(rows && { rows }) } } satisfies ErrorAnswer, status);

/** The model in force, reloaded when the state folder's `personal.json` is another file than the one loaded. */
export interface LiveModel {
  current(): Promise<LocalModel>;
}

/**
 * Checks `personal.json`'s identity on each call (one `stat`); a new one is loaded once, by
 * whichever request sees it first. One that cannot be loaded leaves the old model in force, said once.
 */
export function liveModel(initial: LocalModel, note: (line: string) => void): LiveModel {
  let model = initial;
  let failed: string | null = null;
  let reloading: Promise<void> | null = null;
  const reload = async (stamp: string) => {
    try {
      const next = await loadLocalModel(model.stateDir, { siteId: model.siteId });
      note(`reloaded: ${modelName(next)}, in place of v${model.modelVersion}`);
      model = next;
    } catch (err) {
      failed = stamp;
      const code = err instanceof ConsiliumError ? `${err.code}: ` : "";
      note(`a new personal model in ${model.stateDir} could not be loaded (${code}${(err as Error).message}): still serving v${model.modelVersion}`);
    }
  };
  return {
    async current() {
      const stamp = await modelStamp(model.stateDir).catch(() => null);
      if (stamp !== null && stamp !== model.stamp && stamp !== failed) await (reloading ??= reload(stamp).finally(() => void (reloading = null)));
      return model;
    },
  };
}

/** A refusal of the body's shape: too many rows, a cell neither text nor number, or anything else. */
function badShape(c: Context, error: z.ZodError) {
  const issues = error.issues;
  if (issues.some((i) => i.path.length === 1 && i.path[0] === "rows" && i.code === "too_big")) {
    return fail(c, 413, "TOO_MANY_ROWS", `a request carries at most ${MAX_ROWS} rows: send them in several requests`);
  }
  const cells = issues.filter((i) => i.path.length === 3 && i.path[0] === "rows" && typeof i.path[1] === "number");
  if (cells.length > 0 && cells.length === issues.length) {
    const rows = cells.map((i) => ({ index: i.path[1] as number, column: String(i.path[2]), code: "INVALID_VALUE" as const, reason: "expected a string or a number" }));
    return fail(c, 422, "BAD_ROWS", `${rows.length} cells are neither a string nor a number; nothing was scored`, rows.slice(0, MAX_LISTED));
  }
  const detail = issues.slice(0, 5).map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  return fail(c, 400, "INVALID_BODY", `invalid request body: ${detail}; expected {"rows": [{"column": value, …}, …]}`);
}

/** The message of a 422 for rows that cannot be scored: how many, and for what, by code and column. */
function badRowsMessage(problems: readonly BadRow[], rows: number): string {
  const bad = new Set(problems.map((p) => p.index)).size;
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(`${p.code} in ${p.column}`, (counts.get(`${p.code} in ${p.column}`) ?? 0) + 1);
  const listed = problems.length > MAX_LISTED ? ` (the first ${MAX_LISTED} of ${problems.length} listed)` : "";
  return `${bad} of ${rows} rows cannot be scored: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}${listed}; nothing was scored`;
}

/**
 * The endpoint as a Hono app over the model `live` keeps current.
 * @example
 * const app = serveApp(liveModel(model, io.err), { threshold: 0.3, onError: (err) => io.err(String(err)) });
 * const res = await app.request("/v1/predict", { method: "POST", body: JSON.stringify({ rows: [{ age: 63, ward: "B" }] }) });
 */
export function serveApp(live: LiveModel, options: { readonly threshold?: number; readonly onError?: (err: unknown) => void } = {}) {
  const app = new Hono();
  const threshold = (m: LocalModel) => (m.classes ? null : (options.threshold ?? m.threshold));
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        // The body is left unread: a client that sent the next request on this connection would see it cut.
        c.header("connection", "close");
        return fail(c, 413, "BODY_TOO_LARGE", `request body exceeds ${MAX_BODY_BYTES} bytes (1 MiB): send the rows in several requests`);
      },
    }),
  );
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/v1/model", async (c) => {
    const m = await live.current();
    const { preprocessing } = m;
    return c.json({ modelVersion: m.modelVersion, siteId: m.siteId, federation: m.federation, savedAt: m.savedAt, threshold: threshold(m), label: preprocessing.label.column, ...(m.classes && { classes: [...m.classes] }), features: modelFeatures(m), inputs: preprocessing.inputs } satisfies ModelAnswer);
  });
  app.post("/v1/predict", async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return fail(c, 400, "INVALID_JSON", "request body is not valid JSON");
    }
    const parsed = PredictRequest.safeParse(raw);
    if (!parsed.success) return badShape(c, parsed.error);
    const { rows } = parsed.data;
    const m = await live.current();
    const result = scoreLocalRows(m, rows.map((row) => (column: string) => (Object.hasOwn(row, column) ? String(row[column]) : undefined)));
    if (result.problems.length > 0) {
      const problems = result.problems.map(({ index, column, code, reason }) => ({ index, column, code, reason }));
      return fail(c, 422, "BAD_ROWS", badRowsMessage(problems, rows.length), problems.slice(0, MAX_LISTED));
    }
    const t = threshold(m);
    const names = m.classes;
    const predictions: Prediction[] = result.scores.map((s, i) => {
      const k = result.classes?.[i];
      if (names) {
        // Every row was scored (any problem answered 422 above): a K-class row without its probabilities cannot happen.
        if (!k) throw new Error(`row ${i} of a K-class model has no class probabilities`);
        return { class: names[k.best]!, score: s ?? 0, probabilities: Object.fromEntries(names.map((n, c) => [n, k.probabilities[c]!])) };
      }
      return { score: s ?? 0, decision: decide(s ?? 0, t ?? m.threshold) };
    });
    return c.json({ modelVersion: m.modelVersion, siteId: m.siteId, threshold: t, predictions } satisfies PredictAnswer);
  });
  app.notFound((c) => fail(c, 404, "NOT_FOUND", `no route for ${c.req.method} ${c.req.path} (POST /v1/predict, GET /v1/model, GET /healthz)`));
  app.onError((err, c) => {
    options.onError?.(err);
    return fail(c, 500, "INTERNAL", "internal error");
  });
  return app;
}

/** A running endpoint. `closed` settles once it has stopped. */
export interface ServeHandle {
  readonly url: string;
  readonly closed: Promise<void>;
  stop(): Promise<void>;
}


/**
 * Starts the endpoint and answers once it listens; it runs until `signal` aborts or `stop()`.
 * @example
 * const served = await serveCommand(["--site", "site-01", "--port", "8790"], { signal });
 * await served.closed;
 */
export async function serveCommand(argv: readonly string[], options: { readonly signal?: AbortSignal; readonly io?: CommandIo } = {}): Promise<ServeHandle> {
  const io = options.io ?? processIo;
  const flags = parseFlags(serveSpec, argv, io.env, (line) => io.err(line));
  const model = await openSiteModel(flags, io);
  if (flags.threshold !== undefined && model.classes) throw new UsageError(kClassThreshold(model.classes));
  const app = serveApp(liveModel(model, (line) => io.err(line)), {
    ...(flags.threshold !== undefined && { threshold: flags.threshold }),
    onError: (err) => io.err(`error ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  });
  const listener = await listenOn(flags.host, flags.port);
  listener.setApp(getRequestListener(app.fetch));
  const rule = model.classes ? `by its most probable of ${model.classes.length} classes` : `at threshold ${flags.threshold ?? model.threshold} (${thresholdSource(flags.threshold)})`;
  io.err(`serving the ${modelName(model)} on ${listener.url} ${rule}: POST /v1/predict, GET /v1/model, GET /healthz; a model the runner saves in ${model.stateDir} is picked up at the next request`);
  if (!LOOPBACK.test(flags.host)) io.err(`warn ${flags.host} is reachable from other machines: the endpoint has no authentication and speaks plain http; put the hospital's own access control in front`);
  let requested = (): void => undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    requested();
    return (stopping ??= listener.close());
  };
  const closed = new Promise<void>((resolve) => void (requested = resolve)).then(() => stopping);
  if (options.signal?.aborted) void stop();
  options.signal?.addEventListener("abort", () => void stop(), { once: true });
  return { url: listener.url, closed, stop };
}
