// The worker as a long-running process (EKS, docker-compose): `node services/worker/src/consumer-main.ts`.
import { createLogger, loadConfig } from "@content-engine/core";
import { startWorkerService } from "./service.ts";

const config = loadConfig();
const logger = createLogger("worker", config.logLevel);
const worker = await startWorkerService(config, logger);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down: no new messages, finishing in-flight ones");
    void worker.stop().then(() => process.exit(0));
  });
}
