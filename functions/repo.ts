import type { z } from "zod";
import { ConsiliumError } from "../core/errors.ts";
import type { ObjectStore, PutOptions } from "./ports.ts";

/** Reads a JSON object back from the store, parsed: stored state is a trust boundary too. */
export async function readJson<T extends z.ZodType>(store: ObjectStore, key: string, schema: T): Promise<z.infer<T> | null> {
  const bytes = await store.get(key);
  if (bytes === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ConsiliumError("CORRUPT_STATE", `object ${key} is not JSON`, 500);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConsiliumError("CORRUPT_STATE", `object ${key} does not match its schema: ${parsed.error.message}`, 500);
  return parsed.data;
}

/** Reads each of `list` side by side and keeps what is there (`read` answers null for an object gone since it was listed). */
export async function readAll<T>(list: readonly string[], read: (k: string) => Promise<T | null>): Promise<T[]> {
  return (await Promise.all(list.map(read))).filter((v): v is Awaited<T> => v !== null);
}

export async function mustReadJson<T extends z.ZodType>(store: ObjectStore, key: string, schema: T, code: string, what: string): Promise<z.infer<T>> {
  const value = await readJson(store, key, schema);
  if (value === null) throw new ConsiliumError(code, `${what} not found`, 404);
  return value;
}

export function writeJson(store: ObjectStore, key: string, value: unknown, options?: PutOptions): Promise<boolean> {
  return store.put(key, JSON.stringify(value), { contentType: "application/json", ...options });
}
