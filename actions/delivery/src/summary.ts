// Markdown for job summaries and the CLI: one outcome or plan, readable at a glance.
import type { DeploymentHandle } from "./deployments.ts";
import type { Outcome, Plan } from "./outcome.ts";

const ICON: Record<Outcome["status"], string> = {
  succeeded: "✅",
  unchanged: "⏸️",
  started: "🚀",
  rolled_back: "↩️",
  failed: "❌",
  timed_out: "⏱️",
};

const cell = (value: string | undefined) => (value ? `\`${value}\`` : "—");

export function outcomeMarkdown(outcome: Outcome): string {
  const lines = [
    `### ${ICON[outcome.status]} ${outcome.operation} ${outcome.target}: ${outcome.status}`,
    "",
    outcome.reason,
    "",
    "| previous | attempted | serving now | total | own time | waiting |",
    "|---|---|---|---|---|---|",
    `| ${cell(outcome.revisions.previous)} | ${cell(outcome.revisions.attempted)} | ${cell(outcome.revisions.current)} | ${(outcome.timings.totalMs / 1000).toFixed(1)} s | ${((outcome.timings.totalMs - outcome.timings.waitingMs) / 1000).toFixed(1)} s | ${(outcome.timings.waitingMs / 1000).toFixed(1)} s |`,
  ];
  const links = [
    outcome.outputs["deploy-marker-url"] &&
      `- Grafana deploy marker${outcome.outputs["deploy-marker-id"] ? ` #${outcome.outputs["deploy-marker-id"]}` : ""}: [dashboards at the deploy](${outcome.outputs["deploy-marker-url"]}) (30 minutes either side)`,
  ].filter(Boolean);
  if (links.length) lines.push("", ...(links as string[]));
  if (outcome.diagnostics.length > 0) {
    lines.push(
      "",
      "<details open><summary>Diagnostics</summary>",
      "",
      "```text",
      ...outcome.diagnostics,
      "```",
      "</details>",
    );
  }
  return `${lines.join("\n")}\n`;
}

export function planMarkdown(plan: Plan): string {
  const lines = [`### 📝 plan: ${plan.operation} ${plan.target}${plan.noop ? " (no change)" : ""}`, ""];
  if (plan.changes.length) {
    lines.push("| field | from | to |", "|---|---|---|");
    for (const change of plan.changes)
      lines.push(`| ${change.field} | ${cell(change.from)} | ${cell(change.to)} |`);
  }
  if (plan.steps.length) lines.push("", "Would run:", ...plan.steps.map((step) => `1. ${step}`));
  for (const detail of plan.details) {
    lines.push(
      "",
      "<details><summary>Details</summary>",
      "",
      "```text",
      detail.trimEnd(),
      "```",
      "</details>",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The summary's lines about the GitHub deployment a deploy recorded (empty when it recorded none). */
export function deploymentMarkdown(
  deployment: Pick<DeploymentHandle, "id" | "environment" | "environmentUrl" | "htmlUrl">,
  state: string,
): string {
  if (deployment.id === undefined) return "";
  const record = deployment.htmlUrl ? `[#${deployment.id}](${deployment.htmlUrl})` : `#${deployment.id}`;
  const where = deployment.environmentUrl ? ` · environment URL ${deployment.environmentUrl}` : "";
  return `\nGitHub deployment ${record} of ${deployment.environment}: \`${state}\`${where}\n`;
}
