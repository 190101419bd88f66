// One thread of the processor pool, one document at a time. Its operation (workerData) is `analyse`
// (the local model, loaded once before the thread says it is ready) or `prepare` (text extraction
// and counts for a remote model such as Bedrock: no model to load).
import { parentPort, workerData } from "node:worker_threads";
import { analyseDocument, loadModel } from "./processors/local-nlp.ts";
import {
  PermanentProcessingError,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processors/processor.ts";
import { type PreparedDocument, prepareDocument } from "./processors/text.ts";

export type ThreadOperation = "analyse" | "prepare";

export interface ThreadRequest {
  id: number;
  input: ProcessorInput;
}

export type ThreadReply =
  | { kind: "ready" }
  | { kind: "done"; id: number; output: ProcessorOutput | PreparedDocument }
  | { kind: "failed"; id: number; permanent: boolean; code: string; name: string; message: string };

const port = parentPort;
const operation: ThreadOperation =
  (workerData as { operation?: ThreadOperation } | null)?.operation ?? "analyse";
if (port) {
  port.on("message", ({ id, input }: ThreadRequest) => {
    let reply: ThreadReply;
    try {
      reply = {
        kind: "done",
        id,
        output: operation === "prepare" ? prepareDocument(input) : analyseDocument(input),
      };
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
  if (operation === "analyse") loadModel();
  port.postMessage({ kind: "ready" } satisfies ThreadReply);
}
