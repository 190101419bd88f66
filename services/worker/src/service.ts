import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger, RuntimeConfig } from "@content-engine/core";
import { createBatchHandler } from "./batch.ts";
import { type Consumer, startConsumer } from "./consumer.ts";
import { createConsumerMetrics } from "./prom.ts";
import { createWorkerRuntime } from "./runtime.ts";

export interface RunningWorker {
  consumer: Consumer;
  /** Base URL of the worker's /metrics and /health. */
  url: string;
  stop(): Promise<void>;
}

/** The long-running worker: the consumer plus its /metrics and /health endpoint. */
export async function startWorkerService(config: RuntimeConfig, logger?: Logger): Promise<RunningWorker> {
  const runtime = createWorkerRuntime(config, logger);
  const metrics = createConsumerMetrics();
  const consumer = startConsumer({
    sqs: runtime.sqs,
    queueUrl: config.queueUrl,
    region: config.region,
    handleBatch: createBatchHandler(runtime.handlerDeps(metrics.observe)),
    concurrency: config.workerConcurrency,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    logger: runtime.logger,
  });
  const server: Server = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.url === "/metrics") {
      res.setHeader("content-type", metrics.registry.contentType);
      res.end(await metrics.registry.metrics());
    } else if (req.url === "/health") {
      json(consumer.running ? 200 : 503, {
        status: consumer.running ? "healthy" : "stopping",
        service: "content-engine-worker",
      });
    } else {
      json(404, {
        error: { code: "not_found", message: `no route for ${req.method} ${req.url?.slice(0, 200)}` },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(config.workerMetricsPort, config.host, resolve));
  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  runtime.logger.info({ port }, "worker metrics listening");
  return {
    consumer,
    url: `http://${host}:${port}`,
    async stop() {
      await consumer.stop();
      await runtime.processor.close?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
