// What every answer of the API shares, whether h3 routed the request or Node's parser refused it.
import { randomUUID } from "node:crypto";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the caller's `x-request-id` when it is 1–128 of `[A-Za-z0-9._:-]`, else a new UUID. */
export function requestIdFrom(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Headers on every response, documents and errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
};

/**
 * HSTS, on answers to requests that reached us over HTTPS: the load balancer terminates TLS and says
 * so in `x-forwarded-proto` (terraform's ALB redirects port 80 to 443). Browsers ignore the header over
 * plain HTTP, and a local stack on http://127.0.0.1 must not pin itself to HTTPS.
 */
const HSTS = {
  name: "strict-transport-security",
  value: "max-age=31536000; includeSubDomains",
} as const;

function overHttps(forwardedProto: string | null | undefined): boolean {
  return forwardedProto?.split(",")[0]?.trim().toLowerCase() === "https";
}

/** The security headers of an answer to a request with this `x-forwarded-proto`. */
export function securityHeaders(forwardedProto: string | null | undefined): Readonly<Record<string, string>> {
  return overHttps(forwardedProto) ? { ...SECURITY_HEADERS, [HSTS.name]: HSTS.value } : SECURITY_HEADERS;
}

/** The one error form: `{"error":{"code","message"}}`. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
