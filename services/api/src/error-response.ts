// The one error form of every answer h3 makes: `{"error":{"code","message"}}` (edge.ts), the status,
// the request id and the security headers.
import { type Logger, ServiceError } from "@content-engine/core";
import type { H3Event, HTTPError } from "h3";
import { errorBody, securityHeaders } from "./edge.ts";

/** Every error leaves as `{"error":{"code","message"}}` with the right status and the request id. */
export function errorResponse(
  error: HTTPError,
  event: H3Event,
  s: { requestId: string; log: Logger },
): Response {
  const cause = error.cause;
  let status: number;
  let code: string;
  let message: string;
  const headers = new Headers({
    "content-type": "application/json",
    "x-request-id": s.requestId,
    ...securityHeaders(event.req.headers.get("x-forwarded-proto")),
  });
  if (cause instanceof ServiceError) {
    ({ status, code, message } = cause);
    if (cause.retryAfter) headers.set("retry-after", String(cause.retryAfter));
    for (const [name, value] of Object.entries(cause.headers)) headers.set(name, value);
    // A request whose connection already broke was undone on purpose (request-abort.ts): not an outage.
    if (status >= 500 && event.runtime?.node?.res?.destroyed) {
      s.log.info({ code }, "the connection closed before the answer; nothing was kept");
    } else if (status >= 500) s.log.error({ err: cause.cause ?? cause, code }, message);
  } else if (!error.unhandled && error.status === 404) {
    status = 404;
    code = "not_found";
    message = `no route for ${event.req.method} ${event.url.pathname.slice(0, 200)}`;
  } else if (!error.unhandled && error.status < 500) {
    status = error.status;
    code = "bad_request";
    message = error.message;
  } else {
    status = 500;
    code = "internal";
    message = "an internal error occurred; quote the x-request-id when reporting it";
    s.log.error({ err: cause ?? error }, "unhandled error");
  }
  // A request body that was not read to the end (e.g. a 413 mid-upload) must not hold the connection.
  const node = event.runtime?.node?.req;
  const hasBody =
    node &&
    (node.headers["transfer-encoding"] !== undefined || Number(node.headers["content-length"] ?? 0) > 0);
  if (node && hasBody && !node.readableEnded) headers.set("connection", "close");
  return new Response(event.req.method === "HEAD" ? null : errorBody(code, message), { status, headers });
}
