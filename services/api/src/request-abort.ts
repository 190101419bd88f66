// A request whose connection fails before its answer is sent must create nothing.
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
