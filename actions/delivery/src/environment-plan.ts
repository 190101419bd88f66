// One environment file against its live environment, resource by resource: the deploy plans
// (ECS service and Lambda alias, or the Helm release) and the observability plan (managed alarms,
// dashboards). Read-only. drift reports it, promote shows it for the target in the PR body, and
// reconcile applies the same file with the deploy functions whose plans these are.
import type { Environment } from "@content-engine/environments";
import type { AwsOptions } from "./aws.ts";
import type { CommandRunner } from "./command.ts";
import { planEcs } from "./ecs.ts";
import { planHelm } from "./helm.ts";
import { planLambda } from "./lambda.ts";
import { type GrafanaTarget, planObservability } from "./observability.ts";
import type { Plan, PlannedChange } from "./outcome.ts";
import type { Reporter } from "./reporter.ts";

export type ResourceKind = "ecs-service" | "lambda-alias" | "helm-release" | "alarms" | "dashboards";

export interface ResourcePlan {
  kind: ResourceKind;
  target: string;
  /** True when the live resource differs from the file. */
  differs: boolean;
  changes: PlannedChange[];
  /** The mutating calls applying the file would make. */
  steps: string[];
  /** Set when the live state could not be read: neither in sync nor drifted. */
  error?: string;
}

export interface EnvironmentPlanOptions {
  env: Environment;
  aws?: Partial<AwsOptions>;
  /** Registry endpoint override for fetching worker.bundle (see registry.ts). */
  registryEndpoint?: string;
  /** A local worker zip instead of the environment's worker.bundle (see deployLambda). */
  zipFile?: string;
  /** EKS: an existing kubeconfig (default: DescribeCluster + an STS token). */
  kubeconfig?: string;
  helm?: string;
  chart?: string;
  run?: CommandRunner;
  /** Folders of the generated alarms and dashboards (default: this checkout's). */
  alarmsDir?: string;
  dashboardsDir?: string;
  grafana?: GrafanaTarget;
  reporter?: Reporter;
}

const fromPlan = (kind: ResourceKind, plan: Plan): ResourcePlan => ({
  kind,
  target: plan.target,
  differs: !plan.noop,
  changes: plan.changes,
  steps: plan.steps,
});

async function attempt(
  kind: ResourceKind,
  target: string,
  work: () => Promise<ResourcePlan[]>,
): Promise<ResourcePlan[]> {
  try {
    return await work();
  } catch (error) {
    return [{ kind, target, differs: false, changes: [], steps: [], error: (error as Error).message }];
  }
}

/** The observability plan, split into its two kinds: the managed alarms and the dashboards. */
function observabilityPlans(plan: Plan, env: Environment): ResourcePlan[] {
  const alarmSteps = plan.steps.filter((step) => / alarm /.test(step));
  const dashboardSteps = plan.steps.filter((step) => / dashboard /.test(step));
  return [
    {
      kind: "alarms",
      target: plan.target,
      differs: alarmSteps.length > 0,
      changes: plan.changes,
      steps: alarmSteps,
    },
    {
      kind: "dashboards",
      target: `${env.name} dashboards`,
      differs: dashboardSteps.length > 0,
      changes: dashboardSteps.map((step) => ({
        field: step.split(" dashboard ")[1]!,
        from: "live",
        to: "generated",
      })),
      steps: dashboardSteps,
    },
  ];
}

/** Every managed resource of the environment, compared with its file. Makes no mutating call. */
export async function planEnvironment(options: EnvironmentPlanOptions): Promise<ResourcePlan[]> {
  const { env } = options;
  const common = { env, aws: options.aws, reporter: options.reporter };
  const plans: ResourcePlan[] = [];
  if (env.platform === "eks") {
    plans.push(
      ...(await attempt("helm-release", `${env.eks?.cluster}/${env.eks?.release}`, async () => [
        fromPlan(
          "helm-release",
          await planHelm({
            ...common,
            kubeconfig: options.kubeconfig,
            helm: options.helm,
            chart: options.chart,
            run: options.run,
          }),
        ),
      ])),
    );
  } else {
    plans.push(
      ...(await attempt("ecs-service", `${env.api.cluster}/${env.api.service}`, async () => [
        fromPlan("ecs-service", await planEcs(common)),
      ])),
      ...(await attempt("lambda-alias", `${env.worker.functionName}:${env.worker.alias}`, async () => [
        fromPlan(
          "lambda-alias",
          await planLambda({
            ...common,
            registryEndpoint: options.registryEndpoint,
            zipFile: options.zipFile,
          }),
        ),
      ])),
    );
  }
  plans.push(
    ...(await attempt("alarms", `${env.name} alarms`, async () =>
      observabilityPlans(
        await planObservability({
          ...common,
          alarmsDir: options.alarmsDir,
          dashboardsDir: options.dashboardsDir,
          grafana: options.grafana,
        }),
        env,
      ),
    )),
  );
  return plans;
}

/** A markdown table of the plans: one row per resource, its state and what differs. */
export function environmentPlanMarkdown(plans: ResourcePlan[]): string {
  const lines = ["| resource | target | state | what differs |", "|---|---|---|---|"];
  for (const plan of plans) {
    const state = plan.error ? "⚠️ unreadable" : plan.differs ? "✏️ differs" : "✅ in sync";
    const what = plan.error
      ? plan.error.split("\n")[0]!
      : plan.changes.length
        ? plan.changes.map((c) => `${c.field}: ${c.from ?? "—"} → ${c.to ?? "—"}`).join("<br>")
        : plan.steps.join("<br>") || "—";
    lines.push(`| ${plan.kind} | \`${plan.target}\` | ${state} | ${what.replaceAll("|", "\\|")} |`);
  }
  return `${lines.join("\n")}\n`;
}
