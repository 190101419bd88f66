// Drift: an environment file against everything the repository manages live (ECS service and task
// definition, Lambda alias, code and settings, or the Helm release; the managed alarms and the
// dashboards). The report is a table and JSON; reconcile applies the file again with the deploy
// functions; the GitHub issue of a drifted environment is opened, kept current and closed when the
// drift clears.
import { type Environment, environmentFile } from "@content-engine/environments";
import { deployEcs } from "./ecs.ts";
import {
  type EnvironmentPlanOptions,
  environmentPlanMarkdown,
  planEnvironment,
  type ResourcePlan,
} from "./environment-plan.ts";
import type { GitHub } from "./github.ts";
import { deployHelm } from "./helm.ts";
import { deployLambda } from "./lambda.ts";
import { applyObservability } from "./observability.ts";
import { finish, isSuccess, type Outcome, Stopwatch } from "./outcome.ts";
import { consoleReporter } from "./reporter.ts";
import { outcomeMarkdown } from "./summary.ts";

export interface DriftReport {
  environment: string;
  checkedAt: string;
  /** True when at least one resource differs from the file. */
  drifted: boolean;
  /** Resources whose live state could not be read (counted as neither). */
  unreadable: number;
  resources: ResourcePlan[];
  /** What reconcile did, in order, when it ran. */
  reconciled?: Outcome[];
  /** The report after reconciling. */
  after?: ResourcePlan[];
}

export interface DriftOptions extends EnvironmentPlanOptions {
  /** Redeploy the file when it drifted: true, false, or "auto" (the file's drift.reconcile). */
  reconcile?: boolean | "auto";
  /** Break-glass reason passed to the deploys reconcile runs (freeze windows). */
  breakGlass?: string;
}

function report(env: Environment, resources: ResourcePlan[]): DriftReport {
  return {
    environment: env.name,
    checkedAt: new Date().toISOString(),
    drifted: resources.some((r) => r.differs),
    unreadable: resources.filter((r) => r.error).length,
    resources,
  };
}

/** Applies the file again, in deploy-env's order; stops at the first deploy that does not succeed. */
async function reconcile(options: DriftOptions, drifted: ResourcePlan[]): Promise<Outcome[]> {
  const { env } = options;
  const kinds = new Set(drifted.map((r) => r.kind));
  const common = { env, aws: options.aws, reporter: options.reporter, breakGlass: options.breakGlass };
  const steps: Array<() => Promise<Outcome>> = [];
  if (kinds.has("ecs-service")) steps.push(() => deployEcs(common));
  if (kinds.has("lambda-alias"))
    steps.push(() =>
      deployLambda({ ...common, registryEndpoint: options.registryEndpoint, zipFile: options.zipFile }),
    );
  if (kinds.has("helm-release"))
    steps.push(() =>
      deployHelm({
        ...common,
        kubeconfig: options.kubeconfig,
        helm: options.helm,
        chart: options.chart,
        run: options.run,
      }),
    );
  if (kinds.has("alarms") || kinds.has("dashboards"))
    steps.push(() =>
      applyObservability({
        ...common,
        alarmsDir: options.alarmsDir,
        dashboardsDir: options.dashboardsDir,
        grafana: options.grafana,
      }),
    );
  const outcomes: Outcome[] = [];
  for (const step of steps) {
    const outcome = await step();
    outcomes.push(outcome);
    if (!isSuccess(outcome)) break;
  }
  return outcomes;
}

/** Compares the environment with its file and, when asked (or the file says so), puts it back. */
export async function detectDrift(options: DriftOptions): Promise<DriftReport> {
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  const result = report(env, await planEnvironment(options));
  const wanted =
    options.reconcile === "auto" || options.reconcile === undefined ? env.drift.reconcile : options.reconcile;
  if (!result.drifted || !wanted) return result;
  const drifted = result.resources.filter((r) => r.differs);
  reporter.warn(
    `${env.name} drifted (${drifted.map((r) => r.kind).join(", ")}): applying ${env.name}'s file again`,
  );
  result.reconciled = await reconcile(options, drifted);
  result.after = await planEnvironment(options);
  return result;
}

/** Still drifted after this run (reconciled drift that cleared does not count). */
export function driftRemains(result: DriftReport): boolean {
  return (result.after ?? result.resources).some((r) => r.differs);
}

/** The drift check as one outcome: unchanged (in sync), succeeded (reconciled), failed (drift remains or unreadable). */
export function driftOutcome(result: DriftReport, watch = new Stopwatch()): Outcome {
  const kinds = (plans: ResourcePlan[]) => plans.filter((r) => r.differs).map((r) => r.kind);
  const remains = driftRemains(result);
  const reconciledOk = result.reconciled?.every(isSuccess) ?? false;
  const status = result.unreadable > 0 || remains ? "failed" : result.drifted ? "succeeded" : "unchanged";
  const reason = !result.drifted
    ? result.unreadable
      ? `${result.unreadable} resources of ${result.environment} could not be read; the rest match the file`
      : `${result.environment} matches its file`
    : result.reconciled
      ? remains || !reconciledOk
        ? `${result.environment} drifted (${kinds(result.resources).join(", ")}); reconcile did not put it back (${kinds(result.after ?? result.resources).join(", ") || "a deploy failed"})`
        : `${result.environment} drifted (${kinds(result.resources).join(", ")}); reconciled: it matches its file again`
      : `${result.environment} drifted from its file: ${kinds(result.resources).join(", ")} (not reconciled)`;
  return finish(watch, {
    operation: "drift",
    target: result.environment,
    status,
    reason,
    diagnostics: result.resources
      .filter((r) => r.differs || r.error)
      .flatMap((r) => [
        `${r.kind} ${r.target}: ${r.error ?? "differs from the file"}`,
        ...r.changes.map((c) => `  ${c.field}: ${c.from ?? "-"} -> ${c.to ?? "-"}`),
      ]),
    outputs: {
      drifted: String(result.drifted),
      "drifted-resources": kinds(result.resources).join(","),
      reconciled: String(Boolean(result.reconciled)),
    },
  });
}

/** The job summary: the table before, what reconcile did, and the table after. */
export function driftMarkdown(result: DriftReport): string {
  const lines = [
    `## Drift: ${result.environment} ${result.drifted ? "differs from" : "matches"} its file`,
    "",
    `Checked ${result.checkedAt}.`,
    "",
    environmentPlanMarkdown(result.resources),
  ];
  if (result.reconciled) {
    lines.push("### Reconcile", "", ...result.reconciled.map(outcomeMarkdown));
    if (result.after) lines.push("### After reconcile", "", environmentPlanMarkdown(result.after));
  }
  return `${lines.join("\n")}\n`;
}

export const DRIFT_LABEL = "drift";

export function driftIssueTitle(environment: string): string {
  return `Drift: ${environment} differs from ${environmentFile(environment, "environments")}`;
}

/**
 * One issue per drifted environment (label `drift`): opened when drift is first seen, its body kept
 * current while it lasts, closed with a comment when a check finds the environment in sync again.
 * Returns what it did, for the log; nothing when there is nothing to say.
 */
export async function reportDriftIssue(
  gh: GitHub,
  result: DriftReport,
  runUrl?: string,
): Promise<string | undefined> {
  const { owner, repo, octokit } = gh;
  const title = driftIssueTitle(result.environment);
  const open = await gh.call(() =>
    octokit.rest.issues.listForRepo({ owner, repo, state: "open", labels: DRIFT_LABEL, per_page: 100 }),
  );
  const existing = open.find((issue) => issue.title === title && !issue.pull_request);
  const remains = driftRemains(result);
  const footer = runUrl ? `\n\n[The run that checked](${runUrl})` : "";
  if (!remains) {
    if (!existing || result.unreadable > 0) return undefined;
    const how = result.reconciled ? "reconcile put it back" : "it matches its file again";
    await gh.call(() =>
      octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: existing.number,
        body: `Drift cleared at ${result.checkedAt}: ${how}.${footer}`,
      }),
    );
    await gh.call(() =>
      octokit.rest.issues.update({
        owner,
        repo,
        issue_number: existing.number,
        state: "closed",
        state_reason: "completed",
      }),
    );
    return `closed issue #${existing.number}: ${result.environment} no longer drifts`;
  }
  const body = [
    driftMarkdown(result),
    `Fix it by redeploying the file (\`npx content-engine drift --env ${result.environment} --reconcile\`, or run drift.yml with reconcile), or by changing the file to what should run. This issue closes itself when a check finds ${result.environment} in sync.${footer}`,
  ].join("\n");
  if (existing) {
    await gh.call(() => octokit.rest.issues.update({ owner, repo, issue_number: existing.number, body }));
    return `updated issue #${existing.number}`;
  }
  const created = await gh.call(() =>
    octokit.rest.issues.create({ owner, repo, title, body, labels: [DRIFT_LABEL] }),
  );
  return `opened issue #${created.number}`;
}
