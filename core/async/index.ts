/**
 * @module
 * The I/O-free core of buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022): sites
 * train from whichever model version they pulled and push whenever done; the server admits each
 * update into a buffer (`admit`), which every `bufferSize` updates yields the staleness-weighted
 * entries to apply (`applyBuffer`) and moves to the next model version. The buffer's state is
 * plain data (`BufferState`) for the coordinator to store between invocations.
 */
export { admit, type AdmitOutcome, type Admitted } from "./admit.ts";
export { applyBuffer } from "./apply-buffer.ts";
export { AsyncPolicy, StalenessWeighting } from "./async-policy.ts";
export { Arrival, BufferState, emptyBuffer, FlushEntry, FlushRecord } from "./buffer-state.ts";
export { stalenessWeight } from "./staleness-weight.ts";
