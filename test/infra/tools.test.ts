// The tool installer and locator every infrastructure test depends on.
import { cpSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, toolPath, toolsBin } from "../../scripts/tools.ts";
import { run } from "../support/run.ts";

describe("toolPath", () => {
  it("finds an installed tool in .tools/bin", () => {
    expect(toolPath("helm")).toBe(join(toolsBin, "helm"));
  });

  it("fails loudly, naming the fix, when a tool is missing", () => {
    expect(() => toolPath("no-such-tool-here")).toThrow(
      "no-such-tool-here is not installed: run npm run setup:tools",
    );
  });
});

describe("scripts/setup-tools.sh", () => {
  it("is idempotent: a second run finds every pinned version and installs nothing", () => {
    const result = run("bash", [join(repoRoot, "scripts", "setup-tools.sh")]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).not.toMatch(/\binstalling\b/);
    for (const tool of [
      "helm v3.22.0",
      "terraform v1.5.7",
      "tflint v0.64.0",
      "actionlint v1.7.12",
      "checkov 3.3.30",
      "zizmor 1.33.1",
      "etcd v3.6.13",
      "kubernetes v1.34.0",
      "kwok v0.7.0",
    ]) {
      expect(result.stdout).toContain(`${tool} already installed`);
    }
  });

  it("exits non-zero in CI when a tool cannot be installed, and only warns elsewhere", () => {
    // A copy of the script in an empty checkout: nothing installed, and no registry reachable.
    const checkout = mkdtempSync(join(tmpdir(), "setup-tools-"));
    mkdirSync(join(checkout, "scripts"));
    cpSync(join(repoRoot, "scripts", "setup-tools.sh"), join(checkout, "scripts", "setup-tools.sh"));
    const offline = {
      GOPROXY: "off",
      GOMODCACHE: join(checkout, "gomod"),
      GOFLAGS: "-mod=mod",
      PIP_INDEX_URL: "http://127.0.0.1:9/simple",
      PIP_RETRIES: "0",
      PIP_TIMEOUT: "1",
      PIP_NO_CACHE_DIR: "1",
    };
    const ci = run("bash", [join(checkout, "scripts", "setup-tools.sh")], {
      env: { ...offline, CI: "true" },
    });
    expect(ci.code).not.toBe(0);
    expect(ci.stdout).toMatch(/could not install: .*helm/);
    expect(ci.stdout).toContain("CI=true: a missing tool is a failure");

    const local = run("bash", [join(checkout, "scripts", "setup-tools.sh")], { env: { ...offline, CI: "" } });
    expect(local.code).toBe(0);
    expect(local.stdout).toContain("tests that need these tools will fail");
  }, 120_000);
});

describe("actionlint", () => {
  it("flags a broken workflow (the linter the delivery workflows are checked with is live)", () => {
    const dir = mkdtempSync(join(tmpdir(), "actionlint-"));
    mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
    const workflow = join(dir, ".github", "workflows", "bad.yml");
    cpSync(join(repoRoot, "test", "infra", "fixtures", "bad-workflow.yml"), workflow);
    const result = run(toolPath("actionlint"), ["-no-color", workflow], { cwd: dir });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('property "nope" is not defined');
  });
});
