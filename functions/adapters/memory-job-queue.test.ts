import { describe, expect, it } from "vitest";
import { MemoryJobQueue } from "./memory-job-queue.ts";

describe("MemoryJobQueue", () => {
  it("keeps sent bodies in order until drained", async () => {
    // Prepare
    const queue = new MemoryJobQueue();
    // Execute
    await queue.send("one", "k");
    await queue.send("two", "k");
    const drained = queue.drain();
    // Assert
    expect(drained).toEqual(["one", "two"]);
    expect(queue.messages).toEqual([]);
    expect(queue.drain()).toEqual([]);
  });

  it("drops repeated dedupe keys when FIFO, even after a drain", async () => {
    // Prepare
    const queue = new MemoryJobQueue({ fifo: true });
    // Execute
    await queue.send("aggregate 1", "aggregate:1");
    queue.drain();
    await queue.send("aggregate 1 again", "aggregate:1");
    await queue.send("keyless");
    await queue.send("keyless");
    // Assert
    expect(queue.messages).toEqual(["keyless", "keyless"]);
  });
});
