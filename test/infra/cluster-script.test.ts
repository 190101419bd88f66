// `npm run cluster` as a person uses it: start, read the kubeconfig it prints, Ctrl-C.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kubeAccessFromConfig, serverVersion } from "../../actions/delivery/src/kube.ts";
import { repoRoot } from "../../scripts/tools.ts";

describe("npm run cluster", () => {
  it("prints a working kubeconfig, and on Ctrl-C stops its control plane and removes the copy", async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "cluster-script-")), "config");
    const child = spawn(
      process.execPath,
      [join(repoRoot, "scripts", "cluster.ts"), "--kubeconfig", kubeconfig],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes("Ctrl-C stops the cluster")) {
          clearInterval(timer);
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`npm run cluster exited early:\n${output}`));
        }
      }, 100);
    });
    expect(output).toContain(`export KUBECONFIG=${kubeconfig}`);
    const access = kubeAccessFromConfig(kubeconfig)!;
    expect(await serverVersion(access)).toBe("v1.34.0");
    const logs = output.match(/logs: (\S+)\/logs/)![1]!;

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(kubeconfig)).toBe(false);
    expect(existsSync(logs)).toBe(false);
    await expect(serverVersion(access, 2000)).rejects.toThrow(/ECONNREFUSED/);
  }, 180_000);
});
