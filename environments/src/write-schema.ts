// `npm run schema -w @content-engine/environments`: regenerates environments/schema.json.
import { writeFileSync } from "node:fs";
import { environmentJsonSchema } from "./json-schema.ts";

const target = new URL("../schema.json", import.meta.url);
writeFileSync(target, environmentJsonSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
