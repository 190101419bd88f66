import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { createLogger, createServiceClients, type Logger, type RuntimeConfig } from "@content-engine/core";
import { serve } from "h3";
import { type ApiApp, createApiApp } from "./app.ts";
import { Keyring } from "./auth.ts";
import { errorBody, requestIdFrom, SECURITY_HEADERS } from "./edge.ts";

export interface RunningApi extends ApiApp {
  url: string;
  port: number;
  /** Stop accepting, let in-flight requests finish (bounded by shutdownTimeoutMs), then resolve. */
  close(): Promise<void>;
}

/** Starts the API on Node with the clients and keyring built from configuration. */
export async function startApiServer(
  config: RuntimeConfig,
  logger: Logger = createLogger("api", config.logLevel),
): Promise<RunningApi> {
  const keyring = new Keyring(config.apiKeys);
  if (keyring.size === 0) logger.warn("CONTENT_ENGINE_API_KEYS is empty: every /v1 request will be refused");
  const api = createApiApp({ config, ...createServiceClients(config), keyring, logger });
  const server = serve(api.app, {
    port: config.port,
    hostname: config.host,
    silent: true,
    gracefulShutdown: false,
  });
  // Requests Node's parser refuses never reach h3: answer them in our error form too.
  server.node?.server?.on("clientError", (error: ParserError, socket: Duplex) =>
    answerClientError(error, socket, { logger, count: api.countRefused }),
  );
  await server.ready();
  const address = server.node?.server?.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  logger.info({ port }, "api listening");
  return {
    ...api,
    url: `http://${host}:${port}`,
    port,
    async close() {
      const graceful = server.close(false);
      // Connections that finish their request while we drain would otherwise idle in keep-alive
      // for 5 s; close each as soon as it goes idle.
      const http = server.node?.server;
      const reaper = setInterval(() => {
        if (http && "closeIdleConnections" in http) http.closeIdleConnections();
      }, 50);
      void graceful.finally(() => clearInterval(reaper));
      const forced = new Promise<void>((resolve) =>
        setTimeout(() => {
          logger.warn("shutdown timeout: closing the remaining connections");
          void server.close(true).then(resolve);
        }, config.shutdownTimeoutMs).unref(),
      );
      await Promise.race([graceful, forced]);
    },
  };
}

type ParserError = Error & { code?: string; reason?: string };

/** Node's parser error codes, as the answer a client can act on. */
function classify(error: ParserError): { status: number; code: string; message: string } {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: 431,
        code: "headers_too_large",
        message: "the request line and headers are over 16 KiB",
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, code: "request_timeout", message: "the request did not arrive in time" };
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "HPE_INVALID_TRANSFER_ENCODING":
      return {
        status: 400,
        code: "malformed_request",
        message: "send either Content-Length or Transfer-Encoding: chunked, not both",
      };
    case "HPE_INVALID_CHUNK_SIZE":
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
    case "HPE_STRICT":
      return { status: 400, code: "malformed_request", message: "the chunked request body is malformed" };
    default: {
      const reason = typeof error.reason === "string" ? error.reason.slice(0, 120) : "";
      return {
        status: 400,
        code: "malformed_request",
        message: `the request is not valid HTTP/1.1${reason ? ` (${reason})` : ""}`,
      };
    }
  }
}

/**
 * Node's `clientError`: the bytes on a connection did not parse. Answers in the API's JSON error
 * form with an `x-request-id` (unless an answer has already started on that socket), then closes the
 * connection. A request already in flight on it loses its connection, so its work aborts and undoes
 * itself (request-abort.ts): bytes that do not fully parse create nothing.
 */
export function answerClientError(
  error: ParserError,
  socket: Duplex,
  hooks: { logger: Logger; count: (status: number) => void },
): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, code, message } = classify(error);
  const requestId = requestIdFrom(undefined);
  const body = errorBody(code, message);
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "x-request-id": requestId,
    ...SECURITY_HEADERS,
    connection: "close",
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  hooks.count(status);
  hooks.logger.info(
    { requestId, status, code, parserError: error.code },
    "request refused by the HTTP parser",
  );
  // Closed once the answer is flushed, or after 5 s if the peer does not read it.
  const linger = setTimeout(() => socket.destroy(), 5000).unref();
  socket.once("finish", () => {
    clearTimeout(linger);
    socket.destroy();
  });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
}
