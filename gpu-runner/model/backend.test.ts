import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { selectBackend } from "./backend.ts";

const warnings = () => vi.spyOn(console, "warn").mockImplementation(() => undefined);
afterEach(() => void vi.restoreAllMocks());

describe("selectBackend", () => {
  it("starts the cpu backend without tfjs's Node banner and leaves tfjs's other warnings on", async () => {
    // Prepare
    const warn = warnings();
    // Execute
    await selectBackend("cpu");
    const sum = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
    const quiet = warn.mock.calls.length;
    tf.registerBackend("cpu", () => new MathBackendCPU());
    // Assert
    expect(sum).toBe(3);
    expect(quiet).toBe(0);
    expect(tf.env().getBool("PROD")).toBe(false);
    expect(warn.mock.calls.map((args) => String(args[0]))).toEqual(["cpu backend was already registered. Reusing existing backend factory."]);
  });

  // Canary: the banner comes with a cpu backend's first write; when this fails, revisit firstWriteQuietly.
  it("relies on the banner being printed at a cpu backend's first write only", () => {
    const warn = warnings();
    const backend = new MathBackendCPU();
    backend.write(new Float32Array(1), [1], "float32");
    backend.write(new Float32Array(1), [1], "float32");
    expect(warn.mock.calls.map((args) => String(args[0]))).toEqual([expect.stringContaining("looks like you are running TensorFlow.js in Node.js")]);
  });
});
