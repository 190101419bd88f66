// A real Prometheus (the Debian package's binary) scraping given targets every second, on a free
// loopback port with its own temporary TSDB; stopped by PID.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "../../../scripts/tools.ts";
import { freePort } from "../../../test/support/moto.ts";

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
  stop(): Promise<void>;
}

/** `targets`: job name → base URL whose `/metrics` is scraped; `ruleFiles` are evaluated every second. */
export async function startPrometheus(
  targets: Record<string, string>,
  ruleFiles: string[] = [],
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "ce-prometheus-"));
  const port = await freePort();
  const scrapeConfigs = Object.entries(targets)
    .map(
      ([job, url]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ["${new URL(url).host}"]`,
    )
    .join("\n");
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n${ruleFiles.length ? `rule_files:\n${ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join("")}` : ""}scrape_configs:\n${scrapeConfigs}\n`,
  );
  let output = "";
  const child: ChildProcess = spawn(
    toolPath("prometheus"),
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
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
    stop,
  };
}
