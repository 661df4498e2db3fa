import { z } from "zod";
import { EnrolResponse, type FederationConfig } from "../core/schemas/federation.ts";
import { FederationStatus } from "../core/schemas/status.ts";

/** The administrator's calls, over HTTP like any other client; answers parsed with their schemas. */
export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  private async call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) throw new Error(`${method} ${path} failed (${res.status}): ${JSON.stringify(json)}`);
    return schema.parse(json);
  }

  createFederation(config: FederationConfig): Promise<unknown> {
    return this.call("POST", "/v1/admin/federation", z.unknown(), config);
  }

  enrol(name: string, id?: string): Promise<EnrolResponse> {
    return this.call("POST", "/v1/admin/sites", EnrolResponse, { name, id });
  }

  /** Stores the coordinator-held validation set of contribution scoring. */
  putValidation(set: { columns: readonly string[]; rows: readonly (readonly string[])[] }): Promise<{ rows: number }> {
    return this.call("PUT", "/v1/admin/validation", z.object({ rows: z.number().int() }), set);
  }

  status(): Promise<FederationStatus> {
    return this.call("GET", "/v1/admin/status", FederationStatus);
  }
}
