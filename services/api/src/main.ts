// The API process: `node services/api/src/main.ts` (or the bundled dist/main.mjs in the image).
import { createLogger, loadConfig } from "@content-engine/core";
import { startApiServer } from "./server.ts";

const config = loadConfig();
const logger = createLogger("api", config.logLevel);
const api = await startApiServer(config, logger);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    void api.close().then(() => process.exit(0));
  });
}
