// Markdown for job summaries and the CLI: one outcome or plan, readable at a glance.
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
