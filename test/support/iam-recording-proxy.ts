// The recording proxy (aws-proxy.ts + the IAM record, iam-audit.ts) on a thread of its own, so it keeps
// answering while the thread that started it is blocked: the rehearsal's harness runs tools with
// spawnSync (cosign signing through moto), and an in-thread proxy would wait for them while they wait
// for it. Each recorded call is posted back, in order; `flush()` returns once all of them have arrived.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startAwsProxy } from "./aws-proxy.ts";
import { createIamRecorder } from "./iam-audit.ts";
import type { RecordedCall } from "./iam-requests.ts";

export interface RecordingProxy {
  url: string;
  /** Resolves once every call recorded so far has reached `onCall`. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

type FromThread = { url: string } | { call: RecordedCall } | { flushed: number } | { stopped: true };

/** Starts a recording proxy in front of `target` on its own thread; `onCall` gets each call, in order. */
export async function startRecordingProxy(
  target: string,
  options: { restIsS3?: boolean; onCall: (call: RecordedCall) => void },
): Promise<RecordingProxy> {
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { recordingProxy: { target, restIsS3: options.restIsS3 ?? true } },
  });
  const waiting = new Map<number, () => void>();
  let stopped: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: FromThread) => {
      if ("url" in message) resolve(message.url);
      else if ("call" in message) options.onCall(message.call);
      else if ("flushed" in message) waiting.get(message.flushed)?.();
      else stopped?.();
    });
  });
  let next = 0;
  return {
    url,
    flush() {
      const id = next++;
      return new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        worker.postMessage({ flush: id });
      });
    },
    async stop() {
      await new Promise<void>((resolve) => {
        stopped = resolve;
        worker.postMessage({ stop: true });
      });
      await worker.terminate();
    },
  };
}

if (!isMainThread && workerData?.recordingProxy && parentPort) {
  const port = parentPort;
  const { target, restIsS3 } = workerData.recordingProxy as { target: string; restIsS3: boolean };
  const recorder = createIamRecorder(undefined, (call) => port.postMessage({ call }));
  const proxy = await startAwsProxy(target, { restIsS3, onExchange: recorder.onExchange });
  port.on("message", async (message: { flush?: number; stop?: boolean }) => {
    if (message.flush !== undefined) port.postMessage({ flushed: message.flush });
    if (message.stop) {
      await proxy.stop();
      port.postMessage({ stopped: true });
    }
  });
  port.postMessage({ url: proxy.url });
}
