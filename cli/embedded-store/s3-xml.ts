/**
 * @module
 * The S3 XML the embedded store writes (errors, listings, multipart answers) and the one body it
 * reads (a CompleteMultipartUpload part list), for exactly the elements the AWS SDK uses.
 */
import { z } from "zod";
import type { ObjectInfo } from "./bucket-store.ts";
import type { CompletedPart } from "./multipart-store.ts";
import { badRequest } from "./store-error.ts";

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${({ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" } as Record<string, string>)[c]};`);
}

function xmlUnescape(text: string): string {
  const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
    e.startsWith("#x") || e.startsWith("#X") ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : (named[e] ?? ""));
}

const element = (name: string, value: string | number | boolean): string => `<${name}>${xmlEscape(String(value))}</${name}>`;

export function errorXml(code: string, message: string, requestId: string): string {
  return `${HEAD}<Error>${element("Code", code)}${element("Message", message)}${element("RequestId", requestId)}</Error>`;
}

/** What a ListObjectsV2 answer says besides its objects. */
export interface ListingHead {
  readonly bucket: string;
  readonly prefix: string;
  readonly maxKeys: number;
  readonly truncated: boolean;
  readonly continuationToken?: string;
  readonly nextContinuationToken?: string;
  readonly startAfter?: string;
}

export function listXml(head: ListingHead, objects: readonly ObjectInfo[]): string {
  const contents = objects.map((o) =>
    `<Contents>${element("Key", o.key)}${element("LastModified", new Date(o.meta.lastModified).toISOString())}${element("ETag", o.meta.etag)}${element("Size", o.size)}${element("StorageClass", "STANDARD")}</Contents>`);
  return `${HEAD}<ListBucketResult ${NS}>${element("Name", head.bucket)}${element("Prefix", head.prefix)}${element("KeyCount", objects.length)}${element("MaxKeys", head.maxKeys)}${element("IsTruncated", head.truncated)}${
    head.continuationToken === undefined ? "" : element("ContinuationToken", head.continuationToken)}${
    head.nextContinuationToken === undefined ? "" : element("NextContinuationToken", head.nextContinuationToken)}${
    head.startAfter === undefined ? "" : element("StartAfter", head.startAfter)}${contents.join("")}</ListBucketResult>`;
}

export function initiateXml(bucket: string, key: string, uploadId: string): string {
  return `${HEAD}<InitiateMultipartUploadResult ${NS}>${element("Bucket", bucket)}${element("Key", key)}${element("UploadId", uploadId)}</InitiateMultipartUploadResult>`;
}

export function completeXml(bucket: string, key: string, etag: string): string {
  return `${HEAD}<CompleteMultipartUploadResult ${NS}>${element("Bucket", bucket)}${element("Key", key)}${element("ETag", etag)}</CompleteMultipartUploadResult>`;
}

const Part = z.object({ partNumber: z.coerce.number().int().min(1).max(10_000), etag: z.string().min(1).max(128) });

/** The part list of a CompleteMultipartUpload body; anything else is `MalformedXML`. */
export function parseCompleteParts(xml: string): CompletedPart[] {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?<CompleteMultipartUpload[\s>]/.test(xml)) throw badRequest("MalformedXML", "expected a CompleteMultipartUpload document");
  return [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, inner = ""]) => {
    const part = Part.safeParse({
      partNumber: /<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/.exec(inner)?.[1],
      etag: xmlUnescape(/<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1] ?? ""),
    });
    if (!part.success) throw badRequest("MalformedXML", "a part needs a PartNumber from 1 to 10000 and an ETag");
    return part.data;
  });
}
