// Is an environment's variables file (terraform/envs/<name>.tfvars) accepted by the one environment root
// (terraform/environment)? Decided by the real terraform, offline: every variable validation of the root
// and of the modules it calls, and the root's cross-variable preconditions, run as in a real plan.
//
// How, without the providers (they come from the Terraform registry, not reachable here): a copy of the
// root without providers.tf, versions.tf (backend, required providers) and outputs.tf (it reads module
// outputs), whose module calls resolve to copies of each module's variables.tf alone. Nothing in that
// copy needs a provider but terraform_data (built into terraform), so `terraform init -backend=false`
// and `terraform plan -refresh=false` run with no network, and a plan evaluates exactly the arguments the
// root passes to each module against that module's declared types and validations.
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { toolPath } from "../../scripts/tools.ts";

/** Root files the offline copy leaves out: providers, backend and provider requirements, module outputs. */
export const ROOT_FILES_NEEDING_PROVIDERS = ["providers.tf", "versions.tf", "outputs.tf"] as const;

/**
 * Values an operator gives at apply time and no environment file holds (terraform/README.md "Using the
 * root"), as HCL expressions: valid stand-ins, so the check is about the environment's file. A
 * required variable of the root that neither this list nor the file sets fails the check.
 */
export const APPLY_TIME_STAND_INS: Readonly<Record<string, string>> = {
  github_repository: '"acme/content-engine"',
  api_container_image: `"111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine@sha256:${"a".repeat(64)}"`,
  certificate_arn: '"arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"',
  paging_subscriptions: '[{ protocol = "email", endpoint = "oncall@example.com" }]',
  reviewers: "{ team_ids = [1234567] }",
};

export interface CheckOptions {
  /** Apply-time values (HCL expressions) replacing the stand-ins; the tfvars file still wins over them. */
  applyTime?: Record<string, string>;
}

function exec(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const emptyCliConfig = join(cwd, ".terraformrc");
  if (!existsSync(emptyCliConfig)) writeFileSync(emptyCliConfig, "");
  return new Promise((done) => {
    execFile(
      command,
      args,
      {
        cwd,
        env: {
          ...process.env,
          TF_CLI_CONFIG_FILE: emptyCliConfig,
          TF_IN_AUTOMATION: "1",
          CHECKPOINT_DISABLE: "1",
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

/**
 * Plans the one environment root with `tfvarsFile` (and the apply-time stand-ins) offline. `ok` is
 * terraform's verdict; `output` is what it printed, whitespace and box-drawing collapsed so a
 * validation message can be matched whole.
 */
export async function checkEnvironmentVars(
  repoRoot: string,
  tfvarsFile: string,
  options: CheckOptions = {},
): Promise<{ ok: boolean; output: string }> {
  const terraformDir = join(repoRoot, "terraform");
  const rootDir = join(terraformDir, "environment");
  const work = mkdtempSync(join(tmpdir(), "tf-env-"));
  try {
    const copyRoot = join(work, "terraform", "environment");
    mkdirSync(copyRoot, { recursive: true });
    for (const file of readdirSync(rootDir)) {
      if (!file.endsWith(".tf") || (ROOT_FILES_NEEDING_PROVIDERS as readonly string[]).includes(file))
        continue;
      copyFileSync(join(rootDir, file), join(copyRoot, file));
    }
    const modulesDir = join(terraformDir, "modules");
    for (const name of readdirSync(modulesDir)) {
      const variables = join(modulesDir, name, "variables.tf");
      if (!existsSync(variables)) continue;
      mkdirSync(join(work, "terraform", "modules", name), { recursive: true });
      copyFileSync(variables, join(work, "terraform", "modules", name, "variables.tf"));
    }
    const applyTime = { ...APPLY_TIME_STAND_INS, ...options.applyTime };
    const applyTimeFile = join(work, "apply-time.tfvars");
    writeFileSync(
      applyTimeFile,
      Object.entries(applyTime)
        .map(([name, value]) => `${name} = ${value}\n`)
        .join(""),
    );

    const terraform = toolPath("terraform");
    const init = await exec(terraform, ["init", "-backend=false", "-input=false", "-no-color"], copyRoot);
    if (init.code !== 0) return { ok: false, output: collapse(init.output) };
    // Later -var-file arguments win: the environment's file overrides the stand-ins.
    const plan = await exec(
      terraform,
      [
        "plan",
        "-input=false",
        "-no-color",
        "-lock=false",
        "-refresh=false",
        `-var-file=${applyTimeFile}`,
        `-var-file=${resolve(tfvarsFile)}`,
      ],
      copyRoot,
    );
    return { ok: plan.code === 0, output: collapse(plan.output) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function collapse(output: string): string {
  return output.replace(/[\s│╷╵]+/g, " ").trim();
}
