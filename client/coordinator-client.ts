/**
 * @module
 * A site's view of the coordinator (the site runner's, and a region's relay at the global
 * coordinator): each call derived from the route it reaches (`api.ts`), every answer parsed with
 * its schema; models and updates move straight between the site and the store through presigned
 * URLs, checked against their announced size and sha256.
 */
import { z } from "zod";
import { sha256Hex } from "../core/codec/sha256-hex.ts";
import { ConsiliumError } from "../core/errors.ts";
import type { SiteDecline } from "../core/schemas/privacy.ts";
import type { UpdateManifest } from "../core/schemas/round.ts";
import type { SecurePost } from "../core/schemas/secure-aggregation.ts";
import type { SiteStats } from "../core/schemas/site-stats.ts";
import { ChampionOffer, type ModelRef, type SiteEvaluation, Task } from "../core/schemas/task.ts";
import type { MultipartUpload, UploadedPart, UploadTarget } from "../core/schemas/upload.ts";
import { CheckInAnswer, type CheckIn } from "../core/schemas/consortium.ts";
import { CredentialCheck } from "../core/schemas/federation.ts";
import { apiClient, readAnswer, retryingFetch, withRetries, type ApiClient, type RetryOptions, type Traffic } from "./api.ts";

const anyJson = z.unknown();

export class CoordinatorClient {
  /** Bytes fetched from and sent to the coordinator and the store, for the report. */
  readonly traffic: Traffic = { up: 0, down: 0 };
  readonly #api: ApiClient;

  readonly #retry: RetryOptions;

  /** `retry`: how long a coordinator or store that cannot be reached is waited out (30 minutes unless it says). */
  constructor(
    baseUrl: string,
    token: string,
    private readonly fetchFn: typeof fetch = fetch,
    retry: RetryOptions = {},
  ) {
    this.#retry = retry;
    this.#api = apiClient(baseUrl, token, retryingFetch(fetchFn, this.traffic, retry));
  }

  /** Which credential this is, when it expires, and the coordinator's clock: changes nothing at the coordinator. */
  credential(): Promise<CredentialCheck> {
    return this.#read("GET /v1/credential", this.#api.v1.credential.$get(), CredentialCheck);
  }

  task(): Promise<Task> {
    return this.#read("GET /v1/task", this.#api.v1.task.$get(), Task);
  }

  /** Sends this site's current statistics between runs; answers the drift flags and what they set off. */
  checkIn(checkIn: CheckIn): Promise<CheckInAnswer> {
    return this.#read("POST /v1/checkins", this.#api.v1.checkins.$post({ json: checkIn }), CheckInAnswer);
  }

  /** The consortium's champion to pull (presigned weights, model, layout, preprocessing), or null before there is one. */
  champion(): Promise<ChampionOffer> {
    return this.#read("GET /v1/champion", this.#api.v1.champion.$get(), ChampionOffer);
  }

  postStats(stats: SiteStats): Promise<unknown> {
    return this.#read("POST /v1/stats", this.#api.v1.stats.$post({ json: stats }), anyJson);
  }

  postUpdate(manifest: UpdateManifest): Promise<unknown> {
    const param = { round: String(manifest.round) };
    return this.#read(`POST /v1/rounds/${manifest.round}/updates`, this.#api.v1.rounds[":round"].updates.$post({ param, json: manifest }), anyJson);
  }

  /** Tells the coordinator this site will not train the round (its privacy budget). */
  declineRound(decline: SiteDecline): Promise<unknown> {
    const param = { round: String(decline.round) };
    return this.#read(`POST /v1/rounds/${decline.round}/declines`, this.#api.v1.rounds[":round"].declines.$post({ param, json: decline }), anyJson);
  }

  /** Registers this site's long-term Ed25519 public key for secure aggregation (the same key again is accepted). */
  registerIdentity(publicKey: string): Promise<unknown> {
    return this.#read("POST /v1/identity", this.#api.v1.identity.$post({ json: { publicKey } }), anyJson);
  }

  /** Posts one phase's message of a secure round. */
  postSecure(round: number, message: SecurePost): Promise<unknown> {
    return this.#read(`POST /v1/rounds/${round}/secure`, this.#api.v1.rounds[":round"].secure.$post({ param: { round: String(round) }, json: message }), anyJson);
  }

  postEvaluation(evaluation: SiteEvaluation): Promise<unknown> {
    return this.#read("POST /v1/evaluations", this.#api.v1.evaluations.$post({ json: evaluation }), anyJson);
  }

  async #read<T extends z.ZodType>(what: string, answer: Promise<{ status: number; ok: boolean; text(): Promise<string> }>, schema: T): Promise<z.infer<T>> {
    return readAnswer(what, await answer, schema, this.traffic);
  }

  /** Downloads a model through its presigned URL and checks it against the announced sha256. */
  async download(ref: ModelRef): Promise<Uint8Array> {
    const res = await this.#store(`model ${ref.version}`, () => this.fetchFn(ref.url));
    if (!res.ok) throw new ConsiliumError("MODEL_DOWNLOAD_FAILED", `model ${ref.version}: HTTP ${res.status}`, 502);
    const bytes = new Uint8Array(await res.arrayBuffer());
    this.traffic.down += bytes.length;
    if (bytes.length !== ref.byteLength || sha256Hex(bytes) !== ref.sha256) {
      throw new ConsiliumError("MODEL_CORRUPT", `model ${ref.version} does not match its announced size and sha256`, 502);
    }
    return bytes;
  }

  /** Sends an update as its task says; answers what the manifest adds for a multipart upload (nothing otherwise). */
  async sendUpdate(upload: UploadTarget, bytes: Uint8Array): Promise<Pick<UpdateManifest, "uploadId" | "parts">> {
    if (upload.kind === "single") {
      await this.upload(upload.url, bytes);
      return {};
    }
    return { uploadId: upload.uploadId, parts: await this.uploadParts(upload, bytes) };
  }

  /** Uploads an update straight to the store through the presigned URL. */
  async upload(url: string, bytes: Uint8Array): Promise<void> {
    const res = await this.#store("upload", () => this.fetchFn(url, { method: "PUT", body: bytes, headers: { "content-length": String(bytes.length), "content-type": "application/octet-stream" } }));
    if (!res.ok) throw new ConsiliumError("UPLOAD_FAILED", `upload failed: HTTP ${res.status} ${await res.text()}`, 502);
    this.traffic.up += bytes.length;
  }

  /**
   * Uploads an update part by part through the task's presigned part URLs, one at a time so that
   * only one part is in flight, and answers each part's ETag for the manifest.
   */
  async uploadParts(upload: MultipartUpload, bytes: Uint8Array): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    for (const { partNumber, url } of upload.parts) {
      const start = (partNumber - 1) * upload.partBytes;
      const body = bytes.subarray(start, Math.min(start + upload.partBytes, bytes.length));
      const res = await this.#store(`upload of part ${partNumber}`, () => this.fetchFn(url, { method: "PUT", body, headers: { "content-length": String(body.length) } }));
      if (!res.ok) throw new ConsiliumError("UPLOAD_FAILED", `upload of part ${partNumber} failed: HTTP ${res.status} ${await res.text()}`, 502);
      const etag = res.headers.get("etag");
      // In a browser the bucket's CORS rules must expose ETag; without it the upload cannot be completed.
      if (!etag) throw new ConsiliumError("UPLOAD_FAILED", `the store answered part ${partNumber} without an ETag`, 502);
      this.traffic.up += body.length;
      parts.push({ partNumber, etag });
    }
    return parts;
  }

  /** A request to the store through a presigned URL: sent again on a dropped connection or a 5xx (`withRetries`); never names the URL, which is a credential. */
  #store(what: string, send: () => Promise<Response>): Promise<Response> {
    return withRetries(send, "STORE_UNREACHABLE", what, this.#retry);
  }
}
