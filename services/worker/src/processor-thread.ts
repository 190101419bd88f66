// One thread of the processor pool: loads the model once, then analyses one document at a time.
import { parentPort } from "node:worker_threads";
import { analyseDocument, loadModel } from "./processors/local-nlp.ts";
import {
  PermanentProcessingError,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processors/processor.ts";

export interface ThreadRequest {
  id: number;
  input: ProcessorInput;
}

export type ThreadReply =
  | { kind: "ready" }
  | { kind: "done"; id: number; output: ProcessorOutput }
  | { kind: "failed"; id: number; permanent: boolean; code: string; name: string; message: string };

const port = parentPort;
if (port) {
  port.on("message", ({ id, input }: ThreadRequest) => {
    let reply: ThreadReply;
    try {
      reply = { kind: "done", id, output: analyseDocument(input) };
    } catch (error) {
      const permanent = error instanceof PermanentProcessingError;
      const e = error instanceof Error ? error : new Error(String(error));
      reply = {
        kind: "failed",
        id,
        permanent,
        code: permanent ? error.code : "",
        name: e.name,
        message: e.message,
      };
    }
    port.postMessage(reply);
  });
  // Ready once the model is read, so no document's budget pays for it.
  loadModel();
  port.postMessage({ kind: "ready" } satisfies ThreadReply);
}
