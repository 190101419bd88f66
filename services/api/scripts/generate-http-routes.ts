// Writes the telemetry catalog's route-label set from the API's route table (routes.ts), so
// dashboards and alarms, which may only import the catalog, see the same routes as the router.
// Run through `npm run generate`; services/api/test/routes.test.ts fails when it is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { httpRoutesModule } from "../src/route-labels.ts";

const target = fileURLToPath(new URL("../../telemetry/src/http-routes.ts", import.meta.url));
writeFileSync(target, httpRoutesModule());
console.log(`wrote ${target}`);
