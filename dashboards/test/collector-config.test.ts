// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} here is the template syntax of terraform's templatefile(), not a JS template
// The collector's configuration: the one template terraform ships, rendered here for the proof and
// for docker-compose; checked by the real promtool, and refused when a value or a variable is wrong.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import {
  type AgentConfigValues,
  agentConfigTemplate,
  agentTemplateVariables,
  composeAgentConfig,
  renderAgentConfig,
} from "../src/collector.ts";
import { renderDashboards } from "../src/generate.ts";

const ecs: AgentConfigValues = {
  environment: "prod",
  region: "eu-west-1",
  remoteWriteUrl: "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
  apiTargets: ["localhost:8000"],
  workerTargets: [],
  scrapeInterval: "30s",
  scrapeTimeout: "10s",
  batchSendDeadline: "5s",
};

interface AgentConfig {
  scrape_configs: Array<{
    job_name: string;
    static_configs: Array<{ targets: string[] }>;
    relabel_configs: Array<{ target_label: string; replacement: string }>;
  }>;
  remote_write: Array<{ url: string; sigv4: { region: string } }>;
}

describe("the collector configuration (terraform/modules/metrics/prometheus-agent.yml.tftpl)", () => {
  it("renders here exactly as terraform's templatefile() renders it for the ECS sidecar", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-agent-"));
    const cliConfig = join(dir, "terraformrc");
    writeFileSync(cliConfig, "");
    writeFileSync(
      join(dir, "main.tf"),
      `output "config" {\n  value = templatefile(${JSON.stringify(agentConfigTemplate)}, jsondecode(${JSON.stringify(JSON.stringify(agentTemplateVariables(ecs)))}))\n}\n`,
    );
    const env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
    };
    const terraform = (args: string[]) =>
      spawnSync(toolPath("terraform"), args, { cwd: dir, env, encoding: "utf8" });
    const apply = terraform(["apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"]);
    expect(apply.status, `${apply.stdout}${apply.stderr}`).toBe(0);
    const output = terraform(["output", "-raw", "config"]);
    expect(output.status, output.stderr).toBe(0);
    expect(output.stdout).toBe(renderAgentConfig(ecs));
  });

  it("is a configuration promtool accepts, as rendered for ECS", () => {
    const file = join(mkdtempSync(join(tmpdir(), "agent-")), "agent.yml");
    writeFileSync(file, renderAgentConfig(ecs));
    const result = spawnSync(toolPath("promtool"), ["check", "config", "--agent", file], {
      encoding: "utf8",
    });
    expect(`${result.stdout}${result.stderr}`).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("adds env and service (api | worker) to each scrape job and signs the remote write with SigV4", () => {
    const config = parse(renderAgentConfig(ecs)) as AgentConfig;
    expect(
      config.scrape_configs.map((job) => [
        job.job_name,
        job.static_configs[0]!.targets,
        Object.fromEntries(job.relabel_configs.map((r) => [r.target_label, r.replacement])),
      ]),
    ).toEqual([
      ["api", ["localhost:8000"], { env: "prod", service: "api" }],
      ["worker", [], { env: "prod", service: "worker" }],
    ]);
    expect(config.remote_write).toEqual([
      expect.objectContaining({ url: ecs.remoteWriteUrl, sigv4: { region: "eu-west-1" } }),
    ]);
  });

  it("labels any environment name (a new file's, a preview's), and refuses what is no name", () => {
    for (const environment of ["qa", "pr-12", "local"])
      expect(renderAgentConfig({ ...ecs, environment })).toContain(`replacement: ${environment}\n`);
    for (const environment of ["QA", "qa\n  evil: 1", "", "a b"])
      expect(() => renderAgentConfig({ ...ecs, environment })).toThrow(/is not an environment name/);
  });

  it("refuses a template with a variable it does not know, or one that drops a value, or a directive", () => {
    const template = readFileSync(agentConfigTemplate, "utf8");
    expect(() => renderAgentConfig(ecs, `${template}\n# \${tenant}\n`)).toThrow(
      /unknown variable \$\{tenant\}/,
    );
    expect(() => renderAgentConfig(ecs, template.replace("${region}", "eu-west-1"))).toThrow(
      /never uses region/,
    );
    expect(() => renderAgentConfig(ecs, `${template}\n%{ for t in x }%{ endfor }\n`)).toThrow(/directives/);
  });

  it("is what docker-compose.yml mounts, rendered for the compose network", () => {
    const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true }) as {
      services: Record<string, { volumes?: string[]; command?: string[] }>;
    };
    const collector = compose.services["metrics-collector"]!;
    const mounted = collector.volumes!.find((v) => v.includes("agent.yml"))!.split(":")[0]!;
    expect(mounted).toBe("./dashboards/generated/collector/docker-compose-agent.yml");
    expect(renderDashboards().get("collector/docker-compose-agent.yml")).toBe(composeAgentConfig());
    expect(collector.command).toContain("--enable-feature=agent");
    const config = parse(composeAgentConfig()) as AgentConfig;
    expect(config.scrape_configs.map((j) => j.static_configs[0]!.targets[0])).toEqual([
      "api:8000",
      "worker:9100",
    ]);
    expect(config.remote_write[0]!.url).toBe("http://prometheus:9090/api/v1/write");
    expect(compose.services.prometheus!.command).toContain("--web.enable-remote-write-receiver");
  });
});
