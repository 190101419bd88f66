// The metrics collector's configuration: Prometheus in agent mode, rendered from the one template
// terraform ships to the ECS sidecar (terraform/modules/metrics/prometheus-agent.yml.tftpl). The
// collector proof test renders it for the local stack, and `npm run generate` for docker-compose.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ENVIRONMENT_NAME_PATTERN } from "@content-engine/environments";

const here = dirname(fileURLToPath(import.meta.url));
export const agentConfigTemplate: string = resolve(
  here,
  "../../terraform/modules/metrics/prometheus-agent.yml.tftpl",
);

/** The template's variables, as terraform/modules/metrics passes them to templatefile(). */
export interface AgentConfigValues {
  /** The env label: an environment name, a preview pr-<number>, or local (the local stack). */
  environment: string;
  region: string;
  remoteWriteUrl: string;
  /** `host:port` of each API process to scrape. */
  apiTargets: string[];
  /** `host:port` of each consumer process to scrape (none on ECS: the worker is a Lambda). */
  workerTargets: string[];
  scrapeInterval: string;
  scrapeTimeout: string;
  batchSendDeadline: string;
}

/** The prometheus flags the collector runs with, on ECS (terraform/modules/ecs-service) and here. */
export function agentArgs(configFile: string, storageDir: string, listenAddress: string): string[] {
  return [
    "--enable-feature=agent",
    `--config.file=${configFile}`,
    `--storage.agent.path=${storageDir}`,
    `--web.listen-address=${listenAddress}`,
  ];
}

/** The variables templatefile() gets, by the template's names (targets as JSON, like jsonencode()). */
export function agentTemplateVariables(values: AgentConfigValues): Record<string, string> {
  return {
    environment: values.environment,
    region: values.region,
    remote_write_url: values.remoteWriteUrl,
    api_targets: JSON.stringify(values.apiTargets),
    worker_targets: JSON.stringify(values.workerTargets),
    scrape_interval: values.scrapeInterval,
    scrape_timeout: values.scrapeTimeout,
    batch_send_deadline: values.batchSendDeadline,
  };
}

/**
 * Renders the template as terraform's templatefile() does for a template of interpolations only:
 * `${name}` becomes the value. A directive (`%{`), an unknown name or an unused value is an error,
 * so this renderer and terraform's cannot drift apart silently.
 */
export function renderAgentConfig(
  values: AgentConfigValues,
  template = readFileSync(agentConfigTemplate, "utf8"),
): string {
  if (!ENVIRONMENT_NAME_PATTERN.test(values.environment)) {
    throw new Error(
      `collector: environment ${JSON.stringify(values.environment)} is not an environment name (${ENVIRONMENT_NAME_PATTERN.source})`,
    );
  }
  if (template.includes("%{"))
    throw new Error("collector template: directives (%{...}) are not supported here");
  const vars = agentTemplateVariables(values);
  const used = new Set<string>();
  const rendered = template.replace(/\$\{(\w+)\}/g, (_whole, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`collector template: unknown variable \${${name}}`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(vars).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`collector template: never uses ${unused.join(", ")}`);
  return rendered;
}

/** The collector of docker-compose.yml: the compose services api and worker, into the compose Prometheus. */
export function composeAgentConfig(): string {
  return renderAgentConfig({
    environment: "local",
    region: "eu-west-1",
    remoteWriteUrl: "http://prometheus:9090/api/v1/write",
    apiTargets: ["api:8000"],
    workerTargets: ["worker:9100"],
    scrapeInterval: "5s",
    scrapeTimeout: "5s",
    batchSendDeadline: "5s",
  });
}
