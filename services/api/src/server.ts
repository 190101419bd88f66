import {
  createLogger,
  createS3Client,
  createSqsClient,
  JobStore,
  type Logger,
  type RuntimeConfig,
} from "@content-engine/core";
import { serve } from "h3";
import { type ApiApp, createApiApp } from "./app.ts";
import { Keyring } from "./auth.ts";

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
  const s3 = createS3Client(config);
  const api = createApiApp({
    config,
    s3,
    sqs: createSqsClient(config),
    jobs: new JobStore(s3, config.bucket),
    keyring,
    logger,
  });
  const server = serve(api.app, {
    port: config.port,
    hostname: config.host,
    silent: true,
    gracefulShutdown: false,
  });
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
