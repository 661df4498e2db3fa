/**
 * @module
 * The site's view of the coordinator: every answer is parsed with its schema before use, since the
 * coordinator's answers cross a trust boundary too.
 */
import type { SiteDecline } from "../core/schemas/privacy.ts";
import { z } from "zod";
import { sha256Hex } from "../core/codec/index.ts";
import { ConsiliumError } from "../core/errors.ts";
import type { UpdateManifest } from "../core/schemas/round.ts";
import type { SiteStats } from "../core/schemas/site-stats.ts";
import type { SecurePost } from "../core/schemas/secure-aggregation.ts";
import { Task, type ModelRef, type SiteEvaluation } from "../core/schemas/task.ts";
import type { MultipartUpload, UploadedPart, UploadTarget } from "../core/schemas/upload.ts";

const anyJson = z.unknown();

export class CoordinatorClient {
  /** Bytes fetched from and sent to the coordinator and the store, for the report. */
  readonly traffic = { up: 0, down: 0 };

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  private async call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let res: Response | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.fetchFn(new URL(path, this.baseUrl), {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(payload ? { "content-type": "application/json" } : {}) },
          body: payload,
        });
        if (res.status < 500 || attempt >= 2) break;
      } catch (err) {
        if (attempt >= 2) {
          const cause = err instanceof Error && err.cause ? ` (${String(err.cause)})` : "";
          throw new ConsiliumError("COORDINATOR_UNREACHABLE", `${method} ${new URL(path, this.baseUrl).href}: ${String(err)}${cause}`, 503);
        }
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
    if (!res) throw new ConsiliumError("COORDINATOR_UNREACHABLE", `${method} ${path}: no response`, 503);
    const text = await res.text();
    this.traffic.up += payload?.length ?? 0;
    this.traffic.down += text.length;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConsiliumError("BAD_COORDINATOR_ANSWER", `${method} ${path}: answer is not JSON (status ${res.status})`, 502);
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: unknown; message?: unknown } }).error;
      throw new ConsiliumError(String(e?.code ?? "HTTP_" + res.status), String(e?.message ?? text), res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ConsiliumError("BAD_COORDINATOR_ANSWER", `${method} ${path}: ${parsed.error.message}`, 502);
    return parsed.data;
  }

  task(): Promise<Task> {
    return this.call("GET", "/v1/task", Task);
  }

  postStats(stats: SiteStats): Promise<unknown> {
    return this.call("POST", "/v1/stats", anyJson, stats);
  }

  postUpdate(manifest: UpdateManifest): Promise<unknown> {
    return this.call("POST", `/v1/rounds/${manifest.round}/updates`, anyJson, manifest);
  }

  /** Tells the coordinator this site will not train the round (its privacy budget). */
  declineRound(decline: SiteDecline): Promise<unknown> {
    return this.call("POST", `/v1/rounds/${decline.round}/declines`, anyJson, decline);
  }

  /** Registers this site's long-term Ed25519 public key for secure aggregation (the same key again is accepted). */
  registerIdentity(publicKey: string): Promise<unknown> {
    return this.call("POST", "/v1/identity", anyJson, { publicKey });
  }

  /** Posts one phase's message of a secure round. */
  postSecure(round: number, message: SecurePost): Promise<unknown> {
    return this.call("POST", `/v1/rounds/${round}/secure`, anyJson, message);
  }

  postEvaluation(evaluation: SiteEvaluation): Promise<unknown> {
    return this.call("POST", "/v1/evaluations", anyJson, evaluation);
  }

  /** Downloads a model through its presigned URL and checks it against the announced sha256. */
  async download(ref: ModelRef): Promise<Uint8Array> {
    const res = await this.storeRequest(`model ${ref.version}`, () => this.fetchFn(ref.url));
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
    const res = await this.storeRequest("upload", () => this.fetchFn(url, { method: "PUT", body: bytes, headers: { "content-length": String(bytes.length), "content-type": "application/octet-stream" } }));
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
      const res = await this.storeRequest(`upload of part ${partNumber}`, () => this.fetchFn(url, { method: "PUT", body, headers: { "content-length": String(body.length) } }));
      if (!res.ok) throw new ConsiliumError("UPLOAD_FAILED", `upload of part ${partNumber} failed: HTTP ${res.status} ${await res.text()}`, 502);
      const etag = res.headers.get("etag");
      // In a browser the bucket's CORS rules must expose ETag; without it the upload cannot be completed.
      if (!etag) throw new ConsiliumError("UPLOAD_FAILED", `the store answered part ${partNumber} without an ETag`, 502);
      this.traffic.up += body.length;
      parts.push({ partNumber, etag });
    }
    return parts;
  }

  /**
   * A request to the object store through a presigned URL, sent again (up to three times in all,
   * 200 then 400 ms apart) when the connection fails or the store answers 5xx: both are
   * idempotent, and a store under load drops connections. Other answers are the caller's to read.
   */
  private async storeRequest(what: string, send: () => Promise<Response>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await send();
        if (res.status < 500 || attempt >= 2) return res;
        await res.body?.cancel();
      } catch (err) {
        if (attempt >= 2) {
          const cause = err instanceof Error && err.cause ? ` (${String(err.cause)})` : "";
          throw new ConsiliumError("STORE_UNREACHABLE", `${what}: ${String(err)}${cause}`, 503);
        }
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
