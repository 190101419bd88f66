// Renders the alarms of every environment; `npm run generate` writes them under alarms/generated/,
// and a test fails when the committed files differ.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Environment, loadEnvironments } from "@content-engine/environments";
import { type CloudWatchAlarms, renderCloudWatchAlarms } from "./cloudwatch.ts";
import { alarmDefinitions } from "./definitions.ts";
import { renderPrometheusRules, rulesYaml } from "./prometheus.ts";

export { runbooksDir } from "./runbooks.ts";

import { validateDefinitions } from "./validate.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const generatedAlarmsDir: string = resolve(here, "../generated");
/** The repository's environment files, wherever the command runs from. */
export const repositoryEnvironmentsDir: string = resolve(here, "../../environments");

/** The CloudWatch alarms and Prometheus rules of one environment, validated. */
export function renderEnvironmentAlarms(env: Environment): { cloudwatch: CloudWatchAlarms; rules: string } {
  const alarms = validateDefinitions(env, alarmDefinitions(env));
  return {
    cloudwatch: renderCloudWatchAlarms(env, alarms),
    rules: rulesYaml(renderPrometheusRules(env, alarms)),
  };
}

/** Relative path under alarms/generated/ → content. */
export function renderAlarms(environmentsDir = repositoryEnvironmentsDir): Map<string, string> {
  const files = new Map<string, string>();
  for (const env of loadEnvironments(environmentsDir).environments) {
    const { name } = env;
    const { cloudwatch, rules } = renderEnvironmentAlarms(env);
    files.set(`${name}/cloudwatch-alarms.json`, `${JSON.stringify(cloudwatch, null, 2)}\n`);
    files.set(`${name}/prometheus-rules.yaml`, rules);
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = renderAlarms();
  for (const [path, content] of files) {
    const file = join(generatedAlarmsDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  process.stdout.write(`alarms: wrote ${files.size} files under alarms/generated\n`);
}
