import { createHash } from "node:crypto";
import type { TempFile } from "./durable-file.ts";
import { badRequest } from "./store-error.ts";

/** What a body written to a temp file turned out to be. */
export interface ReceivedBody {
  readonly size: number;
  readonly md5: Buffer;
  readonly sha256: string;
}

/** What the sender declared about the body: its length, and the hashes it signed or sent. */
export interface DeclaredBody {
  readonly length: number;
  /** Hex sha256 from a header-signed request's x-amz-content-sha256. */
  readonly sha256?: string;
  /** Base64 Content-MD5. */
  readonly md5?: string;
}

/**
 * Streams `source` into `file`, hashing as it goes, and checks it against what was declared
 * (`IncompleteBody`, `XAmzContentSHA256Mismatch`, `BadDigest`), as S3 does before it stores anything.
 */
export async function receiveBody(source: AsyncIterable<Uint8Array>, file: TempFile, declared: DeclaredBody): Promise<ReceivedBody> {
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > declared.length) throw badRequest("IncompleteBody", "the body is longer than its Content-Length");
    md5.update(chunk);
    sha256.update(chunk);
    await file.write(chunk);
  }
  if (size !== declared.length) throw badRequest("IncompleteBody", `the body has ${size} of its ${declared.length} bytes`);
  const body = { size, md5: md5.digest(), sha256: sha256.digest("hex") };
  if (declared.sha256 !== undefined && declared.sha256 !== body.sha256) throw badRequest("XAmzContentSHA256Mismatch", "the body does not match its signed sha256");
  if (declared.md5 !== undefined && declared.md5 !== body.md5.toString("base64")) throw badRequest("BadDigest", "the body does not match its Content-MD5");
  return body;
}
