/**
 * @module
 * One SQS queue in a folder: each message one file under `messages/`, written before SendMessage
 * is answered and rewritten with its receive count before ReceiveMessage is. Visibility lives in
 * memory, so a message received and not deleted before a crash is visible again at the next start
 * (at-least-once, as SQS promises); a message received `maxReceiveCount` times goes to the
 * dead-letter queue on its next receive. FIFO queues deliver one message per group at a time and
 * drop a repeated deduplication id for five minutes.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ensureDir, readJsonFile, removeFile, writeFileAtomic } from "./durable-file.ts";
import { StoreDirError } from "./store-dir.ts";
import { badRequest } from "./store-error.ts";

const StoredMessage = z.object({
  id: z.string().min(1),
  body: z.string(),
  sentAt: z.number().int(),
  groupId: z.string().optional(),
  dedupeId: z.string().optional(),
  receiveCount: z.number().int().nonnegative(),
});
type StoredMessage = z.infer<typeof StoredMessage>;

/** A message as the queue holds it; `receipt` names its latest receive while it is in flight. */
export interface Message extends StoredMessage {
  readonly seq: number;
  readonly md5: string;
  visibleAt: number;
  receipt?: string;
}

/** How a queue behaves: visibility timeout, FIFO, and where a message goes after too many receives. */
export interface QueueRules {
  readonly visibilitySeconds: number;
  readonly fifo: boolean;
  readonly contentDedupe: boolean;
  readonly redrive?: { readonly maxReceiveCount: number; readonly target: () => Queue | undefined };
}

export interface ReceiveOptions {
  readonly max: number;
  readonly visibilitySeconds?: number;
  readonly waitSeconds: number;
  readonly signal: AbortSignal;
}

const DEDUPE_MS = 5 * 60 * 1000;
const RECEIPT = /^(\d{1,16})\.[0-9a-f]{32}$/;
const md5Hex = (text: string): string => createHash("md5").update(text).digest("hex");

export class Queue {
  readonly #messages = new Map<number, Message>();
  readonly #waiters = new Set<() => void>();
  #nextSeq = 1;
  #closed = false;

  private constructor(readonly name: string, private readonly dir: string, private readonly tmpDir: string, private readonly durable: boolean, readonly rules: QueueRules) {}

  /** Loads the queue's messages from `dir` (creating it when absent); every one is visible. */
  static async open(name: string, dir: string, tmpDir: string, durable: boolean, rules: QueueRules): Promise<Queue> {
    const queue = new Queue(name, dir, tmpDir, durable, rules);
    await ensureDir(join(dir, "messages"), durable);
    const files = (await readdir(join(dir, "messages"))).filter((f) => /^\d{16}\.json$/.test(f)).sort();
    for (const file of files) {
      const path = join(dir, "messages", file);
      const parsed = StoredMessage.safeParse(await readJsonFile(path));
      if (!parsed.success) throw new StoreDirError("DATA_DIR_CORRUPT", `${path} is not a message this store wrote`);
      const seq = Number(file.slice(0, 16));
      queue.#messages.set(seq, { ...parsed.data, seq, md5: md5Hex(parsed.data.body), visibleAt: 0 });
      queue.#nextSeq = seq + 1;
    }
    return queue;
  }

  /** Stores a message durably; a FIFO duplicate within five minutes answers the first one instead. */
  async send(body: string, o: { readonly groupId?: string; readonly dedupeId?: string; readonly delaySeconds?: number } = {}): Promise<Message> {
    const now = Date.now();
    if (this.rules.fifo && o.groupId === undefined) throw badRequest("MissingParameter", "a FIFO queue needs a MessageGroupId");
    const dedupeId = this.rules.fifo ? (o.dedupeId ?? (this.rules.contentDedupe ? createHash("sha256").update(body).digest("hex") : undefined)) : undefined;
    if (this.rules.fifo && dedupeId === undefined) throw badRequest("InvalidParameterValue", "a FIFO queue without content-based deduplication needs a MessageDeduplicationId");
    const duplicate = [...this.#messages.values()].find((m) => m.dedupeId !== undefined && m.dedupeId === dedupeId && now - m.sentAt < DEDUPE_MS);
    if (duplicate) return duplicate;
    const stored: StoredMessage = { id: randomUUID(), body, sentAt: now, ...(this.rules.fifo && { groupId: o.groupId }), ...(dedupeId !== undefined && { dedupeId }), receiveCount: 0 };
    return this.append(stored, now + (o.delaySeconds ?? 0) * 1000);
  }

  /** Adds a stored message (a send, or a move from another queue's redrive) under the next sequence number. */
  async append(stored: StoredMessage, visibleAt = 0): Promise<Message> {
    const seq = this.#nextSeq++;
    await this.#persist(seq, stored);
    const message: Message = { ...stored, seq, md5: md5Hex(stored.body), visibleAt };
    this.#messages.set(seq, message);
    this.#wake();
    return message;
  }

  /** Long-polls for up to `waitSeconds`; answers as soon as any message is received. */
  async receive(o: ReceiveOptions): Promise<Message[]> {
    const deadline = Date.now() + o.waitSeconds * 1000;
    for (;;) {
      const got = await this.#take(o);
      if (got.length > 0 || Date.now() >= deadline || o.signal.aborted || this.#closed) return got;
      await this.#sleep(deadline, o.signal);
    }
  }

  /** Deletes the message of a receipt handle; a message already gone is no error. */
  async delete(receipt: string): Promise<void> {
    const message = this.#byReceipt(receipt);
    if (!message) return;
    this.#messages.delete(message.seq);
    this.#wake();
    await removeFile(this.#file(message.seq), this.durable);
  }

  changeVisibility(receipt: string, seconds: number): void {
    const message = this.#byReceipt(receipt);
    const now = Date.now();
    if (!message || message.visibleAt <= now) throw badRequest("MessageNotInflight", "the message is not in flight");
    message.visibleAt = now + seconds * 1000;
    this.#wake();
  }

  counts(): { visible: number; inFlight: number } {
    const now = Date.now();
    let inFlight = 0;
    for (const m of this.#messages.values()) if (m.visibleAt > now) inFlight++;
    return { visible: this.#messages.size - inFlight, inFlight };
  }

  /** Ends every long poll (answered empty); later receives answer at once. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  async #take(o: ReceiveOptions): Promise<Message[]> {
    const now = Date.now();
    const out: Message[] = [];
    const moved: Message[] = [];
    const busyGroups = new Set<string>();
    const redrive = this.rules.redrive;
    for (const m of this.#messages.values()) {
      if (out.length >= o.max) break;
      if (m.groupId !== undefined && busyGroups.has(m.groupId)) continue;
      if (m.groupId !== undefined) busyGroups.add(m.groupId);
      if (m.visibleAt > now) continue;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount && redrive.target()) {
        moved.push(m);
        continue;
      }
      m.receiveCount++;
      m.visibleAt = now + (o.visibilitySeconds ?? this.rules.visibilitySeconds) * 1000;
      m.receipt = `${m.seq}.${randomBytes(16).toString("hex")}`;
      out.push(m);
    }
    for (const m of moved) await this.#moveToDeadLetter(m);
    await Promise.all(out.map((m) => this.#persist(m.seq, m)));
    return out;
  }

  async #moveToDeadLetter(m: Message): Promise<void> {
    const target = this.rules.redrive?.target();
    if (!target) return;
    this.#messages.delete(m.seq);
    await target.append({ id: m.id, body: m.body, sentAt: m.sentAt, ...(m.groupId !== undefined && { groupId: m.groupId }), receiveCount: 0 });
    await removeFile(this.#file(m.seq), this.durable);
  }

  #byReceipt(receipt: string): Message | undefined {
    const seq = RECEIPT.exec(receipt)?.[1];
    if (seq === undefined) throw badRequest("ReceiptHandleIsInvalid", "the receipt handle is not one of this queue's");
    const message = this.#messages.get(Number(seq));
    if (message && message.receipt !== receipt) throw badRequest("ReceiptHandleIsInvalid", "the message was received again since: use the latest receipt handle");
    return message;
  }

  #persist(seq: number, m: StoredMessage): Promise<boolean> {
    const stored: StoredMessage = { id: m.id, body: m.body, sentAt: m.sentAt, ...(m.groupId !== undefined && { groupId: m.groupId }), ...(m.dedupeId !== undefined && { dedupeId: m.dedupeId }), receiveCount: m.receiveCount };
    return writeFileAtomic(this.tmpDir, this.#file(seq), Buffer.from(JSON.stringify(stored)), { durable: this.durable });
  }

  #file(seq: number): string {
    return join(this.dir, "messages", `${String(seq).padStart(16, "0")}.json`);
  }

  /** Waits for a change, the next in-flight message to come back, the deadline or the signal. */
  async #sleep(deadline: number, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    let until = deadline;
    for (const m of this.#messages.values()) if (m.visibleAt > now && m.visibleAt < until) until = m.visibleAt;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - now));
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
