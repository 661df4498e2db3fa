import { describe, expect, it } from "vitest";
import { CodecSpec, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { seededValues } from "../../test/support/codec.ts";
import { downlinkStep } from "../../core/model/downlink.ts";
import { seededRandom } from "../../core/random.ts";
import type { ModelRef } from "../../core/schemas/task.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { fetchModel } from "./fetch-model.ts";
import { createSession } from "./site-session.ts";

const LENGTH = 2000;

/** A store serving fixed objects by URL, counting requests. */
function store(objects: Record<string, Uint8Array>) {
  const fetched: string[] = [];
  const fetchFn = async (input: string | URL | Request): Promise<Response> => {
    const url = String(input);
    fetched.push(url);
    const body = objects[url];
    return body ? new Response(body) : new Response("missing", { status: 404 });
  };
  return { fetched, fetchFn: fetchFn as typeof fetch };
}

function setup(deltaBytes?: (real: Uint8Array) => Uint8Array) {
  const v1 = seededValues(LENGTH, 1);
  const target = Float32Array.from(v1, (v, i) => v + 0.01 * Math.sin(i));
  const step = downlinkStep(v1, target, null, CodecSpec.parse("int8"), seededRandom(4));
  const whole = encodeUpdate(step.model, "float32");
  const served = deltaBytes ? deltaBytes(step.bytes) : step.bytes;
  const s = store({ "https://s/2/weights.bin": whole, "https://s/2/delta.bin": served });
  const warnings: string[] = [];
  const logger = { info() {}, warn: (m: string) => warnings.push(m), error() {} };
  const session = createSession("site-a", new CoordinatorClient("https://c", "t", s.fetchFn), { train: { columns: [], rows: [] } as never, test: { columns: [], rows: [] } as never }, undefined, undefined, logger);
  const ref: ModelRef = {
    version: 2,
    url: "https://s/2/weights.bin",
    sha256: sha256Hex(whole),
    byteLength: whole.length,
    delta: { from: 1, codec: "int8", url: "https://s/2/delta.bin", sha256: sha256Hex(served), byteLength: served.length },
  };
  return { v1, step, whole, session, ref, fetched: s.fetched, warnings };
}

describe("fetchModel", () => {
  it("adds the delta to the model the site holds and downloads nothing else", async () => {
    const { v1, step, session, ref, fetched } = setup();
    session.held = { version: 1, values: v1 };
    const model = await fetchModel(session, ref, LENGTH);
    expect(Buffer.from(model.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
    expect(fetched).toEqual(["https://s/2/delta.bin"]);
    expect(session.client.traffic.down).toBe(step.bytes.length);
    expect(session.held).toEqual({ version: 2, values: model });
  });

  it("downloads the whole model when it holds another version, or none", async () => {
    for (const held of [null, { version: 0, values: seededValues(LENGTH, 1) }]) {
      const { step, whole, session, ref, fetched } = setup();
      session.held = held;
      const model = await fetchModel(session, ref, LENGTH);
      expect(Buffer.from(model.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
      expect(fetched).toEqual(["https://s/2/weights.bin"]);
      expect(session.client.traffic.down).toBe(whole.length);
    }
  });

  it("falls back to the whole model, and says so, when the delta does not rebuild the announced model", async () => {
    // A well-formed delta of other values: it downloads and decodes, but the sum hashes to something else.
    const { step, session, ref, fetched, warnings, v1 } = setup(() => encodeUpdate(seededValues(LENGTH, 9, 0.01), "int8"));
    session.held = { version: 1, values: v1 };
    const model = await fetchModel(session, ref, LENGTH);
    expect(Buffer.from(model.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
    expect(fetched).toEqual(["https://s/2/delta.bin", "https://s/2/weights.bin"]);
    expect(warnings).toEqual(["down-link delta did not rebuild the model; downloading it whole"]);
  });

  it("falls back to the whole model when the delta is not what was announced", async () => {
    const { step, session, ref, warnings, v1 } = setup();
    session.held = { version: 1, values: v1 };
    const model = await fetchModel(session, { ...ref, delta: { ...ref.delta!, sha256: "0".repeat(64) } }, LENGTH);
    expect(Buffer.from(model.buffer).equals(Buffer.from(step.model.buffer))).toBe(true);
    expect(warnings).toEqual(["down-link delta refused; downloading the model whole"]);
  });
});
