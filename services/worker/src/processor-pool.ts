import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ThreadOperation, ThreadReply, ThreadRequest } from "./processor-thread.ts";
import {
  PermanentProcessingError,
  type Processor,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processors/processor.ts";
import type { PreparedDocument } from "./processors/text.ts";

export interface ProcessorPoolOptions {
  /** Worker threads; default one per core the process may use (`os.availableParallelism()`). */
  threads?: number;
  /**
   * Milliseconds of CPU time one document may use in its thread before it is stopped. CPU, not wall
   * time, so a busy machine does not fail documents that would pass on an idle one.
   */
  budgetMs: number;
  /** Wall-clock backstop, so even a starved thread ends (default five times the budget). */
  wallClockMs?: number;
  /**
   * Old-generation heap (MB) of each thread (default: V8's own limit). A document that needs more
   * stops its thread with ERR_WORKER_OUT_OF_MEMORY and fails as `document_too_complex`; without a
   * limit the thread could grow until the container's memory limit kills the whole consumer.
   */
  heapMb?: number;
  /**
   * What the threads do: `analyse` (default) runs the local model; `prepare` only extracts the text
   * and counts it, for a remote model (Bedrock), so that work too is off the event loop and bounded.
   */
  operation?: ThreadOperation;
}

/** Next to this module: the TypeScript source in development, the bundled `.mjs` in an artefact. */
const THREAD_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./processor-thread.ts" : "./processor-thread.mjs",
  import.meta.url,
);

interface Task {
  id: number;
  input: ProcessorInput;
  resolve: (output: ProcessorOutput & PreparedDocument) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task?: Task;
  timer?: NodeJS.Timeout;
}

type CpuUsage = { user: number; system: number };

/**
 * The local NLP processor, run in a pool of worker threads so the model never blocks the caller's
 * event loop (the SQS heartbeat, /health and other jobs go on) and jobs use every core. Each
 * document gets a CPU-time budget from the moment a thread takes it; a document that overruns it
 * has its thread terminated and replaced, and fails as a client fault (`document_too_complex`).
 */
export class ProcessorPool implements Processor {
  readonly name = "local-nlp";
  readonly threads: number;
  private readonly budgetMs: number;
  private readonly wallClockMs: number;
  private readonly heapMb: number | undefined;
  private readonly operation: ThreadOperation;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private startError: Error | undefined;
  private stoppedThreads = 0;

  constructor(options: ProcessorPoolOptions) {
    this.threads = Math.max(1, options.threads ?? availableParallelism());
    this.budgetMs = options.budgetMs;
    this.wallClockMs = options.wallClockMs ?? options.budgetMs * 5;
    this.heapMb = options.heapMb;
    this.operation = options.operation ?? "analyse";
    for (let i = 0; i < this.threads; i++) this.slots.push(this.spawn());
  }

  /** Analyses a document with the local model (a pool whose operation is `analyse`). */
  process(input: ProcessorInput): Promise<ProcessorOutput> {
    return this.run("analyse", input);
  }

  /** Extracts and counts a document's text (a pool whose operation is `prepare`). */
  prepare(input: ProcessorInput): Promise<PreparedDocument> {
    return this.run("prepare", input);
  }

  private run(
    operation: ThreadOperation,
    input: ProcessorInput,
  ): Promise<ProcessorOutput & PreparedDocument> {
    if (operation !== this.operation)
      return Promise.reject(
        new Error(`this processor pool's threads ${this.operation}, they do not ${operation}`),
      );
    if (this.closed) return Promise.reject(new Error("the processor pool is closed"));
    if (this.slots.length === 0) return Promise.reject(this.broken());
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.dispatch();
    });
  }

  /** Documents waiting for a free thread. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Threads stopped for good after a budget overrun or a crash (each one replaced). */
  get recycled(): number {
    return this.stoppedThreads;
  }

  /** Stops every thread; documents still waiting or running fail (their messages are retried). */
  async close(): Promise<void> {
    this.closed = true;
    const error = new Error("the processor pool was closed");
    for (const task of this.queue.splice(0)) task.reject(error);
    await Promise.all(
      this.slots.map(async (slot) => {
        clearInterval(slot.timer);
        slot.task?.reject(error);
        slot.task = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    // Node's default passes the parent's flags on, less those a thread refuses: the Lambda Node
    // runtime starts with --expose-gc and heap sizes, which an explicit execArgv would fail on
    // (ERR_WORKER_INVALID_EXEC_ARGV). Only a parent started with `--input-type` (an `-e` script)
    // needs the list spelt out: the thread runs a file and must not inherit that flag.
    const inputType = process.execArgv.some((arg) => arg.startsWith("--input-type"));
    const worker = new Worker(THREAD_URL, {
      ...(inputType ? { execArgv: process.execArgv.filter((arg) => !arg.startsWith("--input-type")) } : {}),
      workerData: { operation: this.operation },
      ...(this.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } } : {}),
    });
    const slot: Slot = { worker, ready: false };
    // An idle pool must not keep the process alive; a busy thread does.
    worker.unref();
    worker.on("message", (reply: ThreadReply) => {
      if (reply.kind === "ready") {
        slot.ready = true;
        // Again once online: an unref() made before the thread started does not hold.
        worker.unref();
        this.dispatch();
        return;
      }
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      this.release(slot);
      if (reply.kind === "done") task.resolve(reply.output as ProcessorOutput & PreparedDocument);
      else if (reply.permanent) task.reject(new PermanentProcessingError(reply.code, reply.message));
      else task.reject(Object.assign(new Error(reply.message), { name: reply.name }));
      this.dispatch();
    });
    worker.on("error", (error) => this.replace(slot, error));
    worker.on("exit", (code) => {
      if (!this.closed && this.slots.includes(slot)) {
        this.replace(slot, new Error(`the processor thread exited with code ${code}`));
      }
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      // The thread's own CPU clock (Node's worker.cpuUsage), read again on a short interval.
      const cpuAtStart = slot.worker.cpuUsage().catch(() => undefined);
      const wallLimit = performance.now() + this.wallClockMs;
      const every = Math.min(250, Math.max(10, Math.min(this.budgetMs, this.wallClockMs) / 5));
      slot.timer = setInterval(() => void this.checkBudget(slot, task, cpuAtStart, wallLimit), every);
      const request: ThreadRequest = { id: task.id, input: task.input };
      slot.worker.postMessage(request);
    }
  }

  private async checkBudget(
    slot: Slot,
    task: Task,
    cpuAtStart: Promise<CpuUsage | undefined>,
    wallLimit: number,
  ): Promise<void> {
    let usedMs: number;
    try {
      const [start, now] = await Promise.all([cpuAtStart, slot.worker.cpuUsage()]);
      usedMs = (now.user + now.system - (start ? start.user + start.system : 0)) / 1000;
    } catch {
      return; // The thread is gone; its "exit"/"error" handler fails the document.
    }
    if (slot.task !== task) return;
    if (usedMs > this.budgetMs) {
      this.overrun(slot, task, `used more than its budget of ${this.budgetMs} ms of CPU time`);
    } else if (performance.now() > wallLimit) {
      this.overrun(slot, task, `took longer than ${this.wallClockMs} ms`);
    }
  }

  private release(slot: Slot): void {
    clearInterval(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    slot.worker.unref();
  }

  /** The document outran its budget: stop its thread (terminate interrupts running JavaScript). */
  private overrun(slot: Slot, task: Task, what: string): void {
    this.release(slot);
    this.swap(slot);
    task.reject(
      new PermanentProcessingError("document_too_complex", `processing the document ${what} and was stopped`),
    );
  }

  /** A thread died (crash, out of memory): fail its document, start a new thread in its place. */
  private replace(slot: Slot, error: Error): void {
    const task = slot.task;
    this.release(slot);
    if (!slot.ready) {
      // It never started (a missing module, a broken bundle): restarting would only loop.
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.startError = error;
      if (this.slots.length === 0) for (const t of this.queue.splice(0)) t.reject(this.broken());
      return;
    }
    this.swap(slot);
    if (task) {
      task.reject(
        (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"
          ? new PermanentProcessingError(
              "document_too_complex",
              "processing the document ran out of memory and was stopped",
            )
          : error,
      );
    }
  }

  private broken(): Error {
    return new Error(`no processor thread could start: ${this.startError?.message ?? "unknown error"}`);
  }

  private swap(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    this.slots[index] = this.spawn();
    slot.worker.removeAllListeners();
    // Listen for (and ignore) errors of the terminating thread.
    slot.worker.on("error", () => {});
    void slot.worker.terminate().then(() => {
      this.stoppedThreads += 1;
    });
  }
}
