// A request whose connection fails before its answer is sent must create nothing.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { H3Event } from "h3";

/**
 * Aborts when the connection closes before the response is complete: the client went away, or
 * the bytes after this request on the same socket did not parse (server.ts answers those and
 * closes the socket). Outside Node's server (`app.fetch`) it is the Request's own signal.
 */
export function connectionSignal(event: H3Event): AbortSignal {
  const res = event.runtime?.node?.res;
  if (!res) return event.req.signal;
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) {
      controller.abort(new Error("the connection closed before the response was sent"));
    }
  };
  if (res.closed) onClose();
  else res.once("close", onClose);
  return controller.signal;
}

/**
 * The SQS client for one request: once `signal` has aborted it refuses to send (the caller's own
 * failure path then undoes the upload and the status). SendMessage is the commit point of an
 * ingest, so a request whose connection broke before it never becomes a queued job.
 */
export function sqsUntil(sqs: SQSClient, signal: AbortSignal): SQSClient {
  const bound = Object.create(sqs) as SQSClient;
  const send = (...args: Parameters<SQSClient["send"]>) => {
    if (signal.aborted) {
      return Promise.reject(
        Object.assign(new Error("not sent: the request's connection closed"), {
          name: "AbortError",
          cause: signal.reason,
        }),
      );
    }
    return (sqs.send as (...a: typeof args) => Promise<unknown>)(...args);
  };
  Object.defineProperty(bound, "send", { value: send });
  return bound;
}
