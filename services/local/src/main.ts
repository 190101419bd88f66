// `npm start`: the local stack in the foreground. Ctrl-C stops everything.
import { startLocalStack } from "./stack.ts";

const stack = await startLocalStack({
  port: Number(process.env.PORT ?? 8000),
  workerMetricsPort: Number(process.env.WORKER_METRICS_PORT ?? 9100),
  ...(process.env.CONTENT_ENGINE_API_KEYS ? { apiKeys: process.env.CONTENT_ENGINE_API_KEYS } : {}),
  ...(process.env.CONTENT_ENGINE_KEY_PREFIX ? { keyPrefix: process.env.CONTENT_ENGINE_KEY_PREFIX } : {}),
  logLevel: process.env.LOG_LEVEL ?? "info",
});

const keyNote = process.env.CONTENT_ENGINE_API_KEYS
  ? "(from CONTENT_ENGINE_API_KEYS)"
  : "(generated for this run)";
process.stdout.write(`
content-engine local stack is up

  web console    ${stack.apiUrl}/
  API            ${stack.apiUrl}
  API docs       ${stack.apiUrl}/docs
  API metrics    ${stack.apiUrl}/metrics
  worker metrics ${stack.workerUrl}/metrics
  S3+SQS (fauxqs) ${stack.emulatorUrl}   bucket ${stack.config.bucket}${stack.config.keyPrefix ? ` under ${stack.config.keyPrefix}` : ""}, queue + DLQ (maxReceiveCount ${stack.config.maxReceiveCount})

  API key ${keyNote}: ${stack.apiKey}

Try it:

  curl -s -H "Authorization: Bearer ${stack.apiKey}" \\
       -H "Content-Type: text/plain" --data-binary @README.md \\
       "${stack.apiUrl}/v1/jobs?filename=README.md" | tee /tmp/job.json
  curl -s -H "Authorization: Bearer ${stack.apiKey}" \\
       "${stack.apiUrl}$(node -p 'require("/tmp/job.json").links.result')"

Ctrl-C stops everything.

`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nstopping the local stack…\n");
    void stack.stop().then(() => process.exit(0));
  });
}
