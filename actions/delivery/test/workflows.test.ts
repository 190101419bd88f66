import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environmentNames } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../../scripts/tools.ts";
import { repositoryRoot } from "../src/bundle.ts";

const dir = join(repositoryRoot, ".github", "workflows");
const files = ["ci.yml", "deploy.yml", "deploy-env.yml", "drift.yml", "promote.yml", "rollback.yml"];
type Job = {
  permissions?: Record<string, string>;
  steps?: { uses?: string; with?: Record<string, string>; run?: string }[];
  uses?: string;
  concurrency?: { group: string };
};
const workflow = (file: string) =>
  parse(readFileSync(join(dir, file), "utf8")) as { permissions?: unknown; jobs: Record<string, Job> };

describe("workflows", () => {
  it("are all present", () => {
    expect(
      readdirSync(dir)
        .filter((f) => files.includes(f))
        .sort(),
    ).toEqual([...files].sort());
  });

  it("pass actionlint", () => {
    const result = spawnSync(toolPath("actionlint"), ["-color=false", ...files.map((f) => join(dir, f))], {
      encoding: "utf8",
    });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it.each(files)("%s pins every third-party action by full commit sha", (file) => {
    for (const job of Object.values(workflow(file).jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith("./")) continue;
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
      }
    }
  });

  it.each(files)("%s defaults to read-only contents and grants more per job only", (file) => {
    expect(workflow(file).permissions).toEqual({ contents: "read" });
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      const permissions = job.permissions ?? {};
      for (const [scope, level] of Object.entries(permissions)) {
        // deployments: read lets rollback.yml read the environments' deployment records; issues: write
        // lets drift.yml keep one issue per drifted environment.
        expect(
          ["contents", "deployments", "id-token", "issues", "pull-requests"],
          `${file} ${name}`,
        ).toContain(scope);
        expect(["read", "write"]).toContain(level);
      }
    }
  });

  it.each(files)("%s assumes AWS roles through OIDC only, never with stored keys", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      const assumes = (job.steps ?? []).some((s) =>
        s.uses?.startsWith("aws-actions/configure-aws-credentials"),
      );
      if (assumes) expect(job.permissions?.["id-token"], `${file} ${name}`).toBe("write");
    }
  });

  it("deploys each environment in its own concurrency group, never cancelling a running deploy", () => {
    const deploy = workflow("deploy-env.yml").jobs.deploy!;
    const matrixEnvironment = ["$", "{{ matrix.environment }}"].join("");
    expect(deploy.concurrency).toEqual({
      group: `deploy-${matrixEnvironment}`,
      "cancel-in-progress": false,
    });
  });

  it("applies the environment's alarms and dashboards after its deploy steps, on either platform", () => {
    const steps = (workflow("deploy-env.yml").jobs.deploy!.steps ?? []).map((s) => s.uses ?? "run");
    const apply = steps.indexOf("./actions/observability-apply");
    expect(apply).toBeGreaterThan(-1);
    for (const deploy of ["./actions/deploy-ecs", "./actions/deploy-lambda", "./actions/deploy-helm"]) {
      expect(steps.indexOf(deploy), deploy).toBeGreaterThan(-1);
      expect(steps.indexOf(deploy), deploy).toBeLessThan(apply);
    }
    const step = workflow("deploy-env.yml").jobs.deploy!.steps![apply]! as {
      if?: string;
      with?: Record<string, string>;
    };
    expect(step.if).toBeUndefined();
    expect(step.with?.["grafana-token"]).toMatch(/secrets\.GRAFANA_TOKEN/);
  });

  it("passes a manual run's break-glass reason to every deploy step, never into a shell script", () => {
    const text = readFileSync(join(dir, "deploy-env.yml"), "utf8");
    const on = (parse(text) as { on: { workflow_dispatch: { inputs: Record<string, object> } } }).on;
    expect(on.workflow_dispatch.inputs["break-glass"]).toMatchObject({ type: "string", default: "" });
    const steps = workflow("deploy-env.yml").jobs.deploy!.steps ?? [];
    const breakGlass = ["$", "{{ inputs.break-glass }}"].join("");
    for (const deploy of ["./actions/deploy-ecs", "./actions/deploy-lambda", "./actions/deploy-helm"]) {
      const step = steps.find((s) => s.uses === deploy);
      expect(step?.with?.["break-glass"], deploy).toBe(breakGlass);
    }
    for (const job of Object.values(workflow("deploy-env.yml").jobs))
      for (const step of job.steps ?? []) expect(step.run ?? "").not.toContain("inputs.");
  });

  it("rolls back by pull request only: no AWS role, no deployment record of its own, inputs only through with:", () => {
    const text = readFileSync(join(dir, "rollback.yml"), "utf8");
    const on = (parse(text) as { on: Record<string, { inputs: Record<string, { options?: string[] }> }> }).on;
    expect(Object.keys(on)).toEqual(["workflow_dispatch"]);
    // A name, not a choice of names: the files are the list, and the action refuses a name without one.
    expect(on.workflow_dispatch!.inputs.environment).toMatchObject({ type: "string", required: true });
    expect(on.workflow_dispatch!.inputs.environment!.options).toBeUndefined();
    const job = workflow("rollback.yml").jobs.rollback! as Job & { environment?: unknown };
    expect(job.environment).toBeUndefined();
    expect(job.permissions).toEqual({ contents: "write", "pull-requests": "write", deployments: "read" });
    const steps = job.steps ?? [];
    expect(steps.map((s) => s.uses)).toEqual([
      expect.stringMatching(/^actions\/checkout@/),
      "./actions/rollback",
    ]);
    expect(steps[0]!.with?.["persist-credentials"]).toBe(false);
    const input = (name: string) => ["$", `{{ inputs.${name} }}`].join("");
    expect(steps[1]!.with).toMatchObject({ environment: input("environment"), to: input("to") });
    for (const step of steps) expect(step.run ?? "").not.toContain("inputs.");
  });

  it("builds from a Dockerfile that exists in the repository", () => {
    const steps = workflow("deploy.yml").jobs.build!.steps ?? [];
    const build = steps.find((step) => step.uses === "./actions/build-push")!;
    expect(existsSync(join(repositoryRoot, build.with!.dockerfile!)), build.with!.dockerfile).toBe(true);
  });

  it("deploys every environment file the push changed, all of them by hand, the caller's one when called", () => {
    const job = workflow("deploy-env.yml").jobs.changed!;
    const steps = job.steps ?? [];
    const envs = steps.find((step) => (step as { id?: string }).id === "envs")!;
    expect(envs.uses).toBe("./actions/environments");
    expect(envs.with).toEqual({
      environment: ["$", "{{ inputs.environment }}"].join(""),
      "changed-since": [
        "$",
        "{{ github.event_name == 'push' && (github.event.before || 'HEAD^') || '' }}",
      ].join(""),
    });
    const pick = steps.find((step) => (step as { id?: string }).id === "pick") as { run: string };
    const picked = (env: Record<string, string>) => {
      const output = join(mkdtempSync(join(tmpdir(), "pick-")), "output");
      writeFileSync(output, "");
      const run = spawnSync("bash", ["-e", "-c", pick.run], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: `${output}.summary`,
          CHOSEN: "",
          ALL: '["a","b","c"]',
          CHANGED: '["b"]',
          ...env,
        },
      });
      expect(run.status, run.stderr).toBe(0);
      return readFileSync(output, "utf8").trim();
    };
    expect(picked({ EVENT: "push" })).toBe('environments=["b"]');
    expect(picked({ EVENT: "workflow_dispatch" })).toBe('environments=["a","b","c"]');
    expect(picked({ EVENT: "workflow_call", CHOSEN: "c" })).toBe('environments=["c"]');
  });

  it("builds for the environment the files name (the one without promotion.from), not one written here", () => {
    const deploy = workflow("deploy.yml");
    const build = deploy.jobs.build! as Job & {
      environment?: string;
      strategy?: { matrix: Record<string, string> };
    };
    expect(build.environment).toBe(["$", "{{ matrix.environment }}"].join(""));
    expect(build.strategy?.matrix.environment).toBe(
      ["$", `{{ fromJSON(format('["{0}"]', needs.environments.outputs.build)) }}`].join(""),
    );
    const text = readFileSync(join(dir, "deploy.yml"), "utf8");
    for (const name of environmentNames(join(repositoryRoot, "environments")))
      expect(text, `deploy.yml names ${name}`).not.toMatch(
        new RegExp(`(environment|--env):? ${name}\\b|environments/${name}\\.yaml`),
      );
  });

  it("takes the promotion pull requests from the files, and by hand only the one into `to`", () => {
    const job = workflow("promote.yml").jobs.promotions!;
    const pick = (job.steps ?? []).find((step) => (step as { id?: string }).id === "pick") as { run: string };
    const picked = (env: Record<string, string>) => {
      const output = join(mkdtempSync(join(tmpdir(), "pick-")), "output");
      writeFileSync(output, "");
      const run = spawnSync("bash", ["-c", pick.run], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          GITHUB_OUTPUT: output,
          ALL: '[{"from":"a","to":"b"},{"from":"b","to":"c"}]',
          ...env,
        },
      });
      return { code: run.status, stdout: run.stdout, output: readFileSync(output, "utf8").trim() };
    };
    expect(picked({ TO: "" }).output).toBe('promotions=[{"from":"a","to":"b"},{"from":"b","to":"c"}]');
    expect(picked({ TO: "c" }).output).toBe('promotions=[{"from":"b","to":"c"}]');
    const first = picked({ TO: "a" });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain("::error::a promotes from nothing");
    const matrix = (
      workflow("promote.yml").jobs.promote! as Job & { strategy?: { matrix: { include: string } } }
    ).strategy;
    expect(matrix?.matrix.include).toBe(
      ["$", "{{ fromJSON(needs.promotions.outputs.promotions) }}"].join(""),
    );
  });

  it("checks drift hourly for every environment file, in a concurrency group of its own", () => {
    const text = readFileSync(join(dir, "drift.yml"), "utf8");
    const on = (parse(text) as { on: { schedule: { cron: string }[]; workflow_dispatch: unknown } }).on;
    expect(on.schedule).toEqual([{ cron: "17 * * * *" }]);
    const job = workflow("drift.yml").jobs.drift! as Job & { environment?: string };
    const matrixEnvironment = ["$", "{{ matrix.environment }}"].join("");
    expect(job.environment).toBe(matrixEnvironment);
    // Not deploy-env's group: a pending check there would cancel a pending deploy.
    expect(job.concurrency).toEqual({ group: `drift-${matrixEnvironment}`, "cancel-in-progress": false });
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write", issues: "write" });
    const step = (job.steps ?? []).find((s) => s.uses === "./actions/drift");
    expect(step?.with?.reconcile).toBe(["$", "{{ inputs.reconcile || 'auto' }}"].join(""));
    for (const j of Object.values(workflow("drift.yml").jobs))
      for (const st of j.steps ?? []) expect(st.run ?? "").not.toContain("inputs.");
  });

  it("drift.yml lists the environments from the files, and refuses a name that has no file", () => {
    const pick = (workflow("drift.yml").jobs.environments!.steps ?? []).find(
      (step) => (step as { id?: string }).id === "pick",
    ) as { run: string };
    const repo = mkdtempSync(join(tmpdir(), "drift-pick-"));
    mkdirSync(join(repo, "environments", "src"), { recursive: true });
    // Any names: the step lists whatever files there are.
    for (const name of ["alpha", "beta", "gamma", "qa"])
      writeFileSync(join(repo, "environments", `${name}.yaml`), `name: ${name}\n`);
    writeFileSync(join(repo, "environments", "src", "schema.yaml"), "x: 1\n");
    let runs = 0;
    const pickWith = (chosen: string) => {
      const output = join(repo, `out-${++runs}`);
      writeFileSync(output, "");
      const run = spawnSync("bash", ["-e", "-c", pick.run], {
        cwd: repo,
        encoding: "utf8",
        env: { PATH: process.env.PATH, HOME: repo, CHOSEN: chosen, GITHUB_OUTPUT: output },
      });
      return { run, output: readFileSync(output, "utf8").trim() };
    };
    expect(pickWith("").output).toBe('environments=["alpha","beta","gamma","qa"]');
    expect(pickWith("gamma").output).toBe('environments=["gamma"]');
    for (const bad of ["../environments/dev", "qa; rm -rf /", "nope"]) {
      const result = pickWith(bad);
      expect(result.run.status, bad).toBe(1);
      expect(result.run.stdout).toContain(`::error::no environment file for "${bad}"`);
      expect(result.output).toBe("");
    }
  });

  it("keeps the push token off the disk while the record job installs, and gives it to the pushing step only", () => {
    const steps = (workflow("deploy.yml").jobs.record!.steps ?? []) as Array<{
      id?: string;
      uses?: string;
      run?: string;
      with?: Record<string, unknown>;
      env?: Record<string, string>;
    }>;
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["persist-credentials"]).toBe(false);
    const withToken = steps.filter((s) => JSON.stringify(s).includes("github.token"));
    expect(withToken.map((s) => s.id)).toEqual(["commit"]);
    const install = steps.findIndex((s) => s.run?.includes("npm ci"));
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(steps.findIndex((s) => s.id === "commit"));
    // The token reaches git as a per-command header, never through git config on disk.
    expect(steps.find((s) => s.id === "commit")?.run).not.toMatch(
      /git config[^\n]*(extraheader|credential|url)/,
    );
  });

  it("promotes as the source's read-only role (readRoleArn), never a deploy role", () => {
    const steps = (workflow("promote.yml").jobs.promote!.steps ?? []) as Array<{
      id?: string;
      run?: string;
      uses?: string;
      with?: Record<string, string>;
    }>;
    const source = steps.find((s) => s.id === "source");
    expect(source?.run).toContain("s/^readRoleArn:");
    expect(source?.run).not.toContain("deployRoleArn");
    const assume = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(assume?.with?.["role-to-assume"]).toBe(
      ["$", "{{ steps.source.outputs.role || vars.READ_ROLE_ARN }}"].join(""),
    );
  });
});
