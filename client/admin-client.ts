/**
 * @module
 * The administrator's calls, over HTTP like any other client: each derived from its route
 * (`api.ts`), every answer parsed with its schema.
 */
import { z } from "zod";
import { EnrolResponse, RotatedCredential, type FederationConfig } from "../core/schemas/federation.ts";
import { FederationStatus } from "../core/schemas/status.ts";
import { ChampionEntry, ModelsView, ModelView } from "../core/registry/index.ts";
import { Abandoned, RunsView, TriggerOutcome } from "../core/schemas/consortium.ts";
import { AuditPageView } from "../core/audit/trail.ts";
import { OperatorCredential, OperatorView, type OperatorRole } from "../core/schemas/operators.ts";
import { apiClient, readAnswer, type ApiClient } from "./api.ts";

export class AdminClient {
  readonly #api: ApiClient;

  constructor(baseUrl: string, adminToken: string, fetchFn: typeof fetch = fetch) {
    this.#api = apiClient(baseUrl, adminToken, fetchFn);
  }

  async createFederation(config: FederationConfig): Promise<unknown> {
    return readAnswer("POST /v1/admin/federation", await this.#api.v1.admin.federation.$post({ json: config }), z.unknown());
  }

  async enrol(name: string, id?: string, expiresInDays?: number): Promise<EnrolResponse> {
    const json = { name, ...(id !== undefined && { id }), ...(expiresInDays !== undefined && { expiresInDays }) };
    return readAnswer("POST /v1/admin/sites", await this.#api.v1.admin.sites.$post({ json }), EnrolResponse);
  }

  /** A new credential for the site, shown this once; the one before stops working at once. */
  async rotate(siteId: string, expiresInDays?: number): Promise<RotatedCredential> {
    const answer = await this.#api.v1.admin.sites[":site"].rotate.$post({ param: { site: siteId }, json: { ...(expiresInDays !== undefined && { expiresInDays }) } });
    return readAnswer(`POST /v1/admin/sites/${siteId}/rotate`, answer, RotatedCredential);
  }

  /** Stores the coordinator-held validation set of contribution scoring. */
  async putValidation(set: { columns: readonly string[]; rows: readonly (readonly string[])[] }): Promise<{ rows: number }> {
    const json = { columns: [...set.columns], rows: set.rows.map((r) => [...r]) };
    return readAnswer("PUT /v1/admin/validation", await this.#api.v1.admin.validation.$put({ json }), z.object({ rows: z.number().int() }));
  }

  /** Revokes a site's credential: its next request, and every one after, is refused. */
  async revoke(siteId: string): Promise<{ siteId: string; revokedAt: number }> {
    const answer = await this.#api.v1.admin.sites[":site"].revoke.$post({ param: { site: siteId } });
    return readAnswer(`POST /v1/admin/sites/${siteId}/revoke`, answer, z.object({ siteId: z.string(), revokedAt: z.number() }));
  }

  /** The status; with `perSite`, each round's updates site by site (the per-site learning curves). */
  async status(options: { readonly perSite?: boolean } = {}): Promise<FederationStatus> {
    return readAnswer("GET /v1/admin/status", await this.#api.v1.admin.status.$get(options.perSite ? { query: { perSite: "true" } } : {}), FederationStatus);
  }

  /** The registry: every version, the champion and its history. */
  async models(): Promise<ModelsView> {
    return readAnswer("GET /v1/admin/models", await this.#api.v1.admin.models.$get(), ModelsView);
  }

  /** One registered version's card and decision. */
  async model(version: number): Promise<ModelView> {
    return readAnswer(`GET /v1/admin/models/${version}`, await this.#api.v1.admin.models[":version"].$get({ param: { version: String(version) } }), ModelView);
  }

  /** Makes `version` the champion; with `expectedChampion`, only if the champion is still that one (else 409 CHAMPION_CHANGED). */
  async promote(version: number, reason: string, expectedChampion?: number | null): Promise<ChampionEntry> {
    const json = { reason, ...(expectedChampion !== undefined && { expectedChampion }) };
    return readAnswer(`POST /v1/admin/models/${version}/promote`, await this.#api.v1.admin.models[":version"].promote.$post({ param: { version: String(version) }, json }), ChampionEntry);
  }

  /** Makes a former champion the champion again. */
  async rollback(to: number, reason: string, expectedChampion?: number | null): Promise<ChampionEntry> {
    const json = { to, reason, ...(expectedChampion !== undefined && { expectedChampion }) };
    return readAnswer("POST /v1/admin/models/rollback", await this.#api.v1.admin.models.rollback.$post({ json }), ChampionEntry);
  }

  /** The audit trail after sequence `after`: records with their stored text, the signed checkpoints and the key that signs them. */
  async audit(after: number, limit?: number): Promise<AuditPageView> {
    const query = { after: String(after), ...(limit !== undefined && { limit: String(limit) }) };
    return readAnswer("GET /v1/admin/audit", await this.#api.v1.admin.audit.$get({ query }), AuditPageView);
  }

  /** Adds a named operator with a role; the answer holds its credential, shown this once. */
  async addOperator(name: string, role: OperatorRole): Promise<OperatorCredential> {
    return readAnswer("POST /v1/admin/operators", await this.#api.v1.admin.operators.$post({ json: { name, role } }), OperatorCredential);
  }

  async operators(): Promise<OperatorView[]> {
    return (await readAnswer("GET /v1/admin/operators", await this.#api.v1.admin.operators.$get(), z.object({ operators: z.array(OperatorView) }))).operators;
  }

  /** Revokes an operator's credential: refused at once on every coordinator instance. */
  async revokeOperator(name: string): Promise<{ name: string; revokedAt: number }> {
    const answer = await this.#api.v1.admin.operators[":name"].revoke.$post({ param: { name } });
    return readAnswer(`POST /v1/admin/operators/${name}/revoke`, answer, z.object({ name: z.string(), revokedAt: z.number() }));
  }

  /** The consortium's runs and the triggers waiting for the next one. */
  async runs(): Promise<RunsView> {
    return readAnswer("GET /v1/admin/runs", await this.#api.v1.admin.runs.$get(), RunsView);
  }

  /** Asks for a run: it starts now (201) unless one is training, and then waits for it (202). */
  async startRun(reason: string): Promise<TriggerOutcome> {
    return readAnswer("POST /v1/admin/runs", await this.#api.v1.admin.runs.$post({ json: { reason } }), TriggerOutcome);
  }

  /** Stops the run that trains, with the reason; it registers nothing, and the next trigger starts the next run. */
  async abandonRun(reason: string): Promise<{ run: number; abandoned: Abandoned }> {
    return readAnswer("POST /v1/admin/runs/abandon", await this.#api.v1.admin.runs.abandon.$post({ json: { reason } }), z.object({ run: z.number(), abandoned: Abandoned }));
  }

  /** Runs the cron tick now: closes rounds past their deadline, finishes what a crash left, starts a due run. */
  async tick(): Promise<{ round: number; action: string }> {
    return readAnswer("POST /v1/admin/rounds/close-expired", await this.#api.v1.admin.rounds["close-expired"].$post(), z.object({ round: z.number(), action: z.string() }).passthrough());
  }
}
