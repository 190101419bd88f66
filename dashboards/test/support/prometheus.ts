// A real Prometheus (the Debian package's binary) on a free loopback port with its own temporary
// folder, stopped by PID: a server scraping given targets every second (optionally receiving remote
// write), or the collector in agent mode running a given configuration.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "../../../scripts/tools.ts";
import { freePort } from "../../../test/support/moto.ts";
import { agentArgs } from "../../src/collector.ts";

export interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export interface RuleGroupsResult {
  status: string;
  data: {
    groups: Array<{
      name: string;
      rules: Array<{
        name: string;
        health: string;
        lastError?: string;
        lastEvaluation: string;
        state?: string;
      }>;
    }>;
  };
}

export interface RunningPrometheus {
  url: string;
  /** An instant query through the HTTP API (`/api/v1/query`). */
  query(expr: string): Promise<QueryResult>;
  /** The loaded rule groups and their evaluation health (`/api/v1/rules`). */
  rules(): Promise<RuleGroupsResult>;
  /** What the process printed last (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Job name → base URL whose `/metrics` is scraped every second, with extra target labels. */
  targets?: Record<string, { url: string; labels?: Record<string, string> }>;
  /** Rule files evaluated every second. */
  ruleFiles?: string[];
  /** A complete configuration instead of targets and rules (the collector's, rendered). */
  config?: string;
  /** Run as the collector: agent mode, no TSDB and no query API, remote write only. */
  agent?: boolean;
  /** Accept remote write on /api/v1/write: the store the collector writes to. */
  remoteWriteReceiver?: boolean;
  /** Extra environment of the process (e.g. the credentials SigV4 signs with). */
  env?: Record<string, string>;
}

function scrapeConfig(options: PrometheusOptions): string {
  const jobs = Object.entries(options.targets ?? {}).map(([job, { url, labels }]) => {
    const extra = labels ? `\n        labels: ${JSON.stringify(labels)}` : "";
    return `  - job_name: ${job}\n    static_configs:\n      - targets: ["${new URL(url).host}"]${extra}`;
  });
  const rules = options.ruleFiles?.length
    ? `rule_files:\n${options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join("")}`
    : "";
  return `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${rules}scrape_configs:${jobs.length ? `\n${jobs.join("\n")}` : " []"}\n`;
}

/** Starts the Debian `prometheus` binary on a free loopback port, in its own temporary folder. */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "ce-prometheus-"));
  const port = await freePort();
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, options.config ?? scrapeConfig(options));
  const listen = `127.0.0.1:${port}`;
  const args = options.agent
    ? agentArgs(configFile, join(dir, "wal"), listen)
    : [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${listen}`,
        ...(options.remoteWriteReceiver ? ["--web.enable-remote-write-receiver"] : []),
      ];
  let output = "";
  const child: ChildProcess = spawn(toolPath("prometheus"), [...args, "--log.level=warn"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  child.stdout?.on("data", (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  child.stderr?.on("data", (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", done);
      child.kill("SIGTERM");
    });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready on ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ query: expr }),
      });
      return (await response.json()) as QueryResult;
    },
    async rules() {
      return (await (await fetch(`${url}/api/v1/rules`)).json()) as RuleGroupsResult;
    },
    output: () => output,
    stop,
  };
}
