import { z } from "zod";
import type { StrategyState } from "./strategy.ts";

const Header = z.object({
  scalars: z.record(z.string(), z.number()),
  vectors: z.array(z.object({ name: z.string(), length: z.number().int().nonnegative() })),
});

/** Layout: u32 header length, JSON header, then each vector as little-endian float32, 4-aligned. */
export function encodeState(state: StrategyState): Uint8Array {
  const names = Object.keys(state.vectors).sort();
  const header = new TextEncoder().encode(
    JSON.stringify({ scalars: state.scalars, vectors: names.map((name) => ({ name, length: state.vectors[name]?.length ?? 0 })) }),
  );
  const pad = (4 - ((4 + header.length) % 4)) % 4;
  const floats = names.reduce((n, k) => n + (state.vectors[k]?.length ?? 0), 0);
  const out = new Uint8Array(4 + header.length + pad + floats * 4);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let at = 4 + header.length + pad;
  for (const name of names) {
    const v = state.vectors[name] ?? new Float32Array(0);
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export function decodeState(bytes: Uint8Array): StrategyState {
  if (bytes.length < 4) throw new Error("strategy state is truncated");
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + len > bytes.length) throw new Error("strategy state header is truncated");
  const header = Header.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len))));
  let at = 4 + len + ((4 - ((4 + len) % 4)) % 4);
  const vectors: Record<string, Float32Array> = {};
  for (const { name, length } of header.vectors) {
    if (at + length * 4 > bytes.length) throw new Error(`strategy state vector "${name}" is truncated`);
    vectors[name] = new Float32Array(bytes.slice(at, at + length * 4).buffer);
    at += length * 4;
  }
  return { scalars: header.scalars, vectors };
}
