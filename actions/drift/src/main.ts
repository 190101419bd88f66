// drift action: inputs → detectDrift (reconciling when asked) → JSON report, drift issue, outputs and job summary.
import { writeFileSync } from "node:fs";
import {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  detectDrift,
  driftMarkdown,
  driftOutcome,
  gitHubClient,
  gitHubInputs,
  gitHubOptions,
  grafanaInputs,
  grafanaTarget,
  readInputs,
  reportDriftIssue,
  runAction,
  workspacePath,
  writeSummary,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...gitHubInputs,
  ...grafanaInputs,
  environment: z.string(),
  "environments-dir": z.string().default("environments"),
  reconcile: z
    .enum(["auto", "true", "false"], { message: 'expected "auto", "true" or "false"' })
    .default("auto"),
  "break-glass": z.string().optional(),
  "report-issue": booleanInput(true),
  "report-file": z.string().default("drift-report.json"),
  kubeconfig: z.string().optional(),
  "aws-endpoint": z.url().optional(),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const env = actionEnvironment(input.environment, input["environments-dir"]);
  // A missing token fails before anything is read, not after a reconcile.
  const gh = input["report-issue"]
    ? gitHubClient({
        ...gitHubOptions(input),
        onWarning: actionReporter.warn,
      })
    : undefined;
  // Reconcile applies this checkout's file: only while it is still the newest (deploy-env applies a newer one).
  let reconcile: boolean | "auto" = input.reconcile === "auto" ? "auto" : input.reconcile === "true";
  const checkedOut = process.env.GITHUB_SHA;
  if (reconcile !== false && gh && checkedOut) {
    const { owner, repo, octokit } = gh;
    const branch = process.env.GITHUB_REF_NAME || "main";
    const head = await gh.find(() => octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` }));
    if (head && head.object.sha !== checkedOut) {
      actionReporter.warn(
        `${branch} moved to ${head.object.sha.slice(0, 7)} since this check checked out ${checkedOut.slice(0, 7)}: reporting only, the newer file is deploy-env's to apply`,
      );
      reconcile = false;
    }
  }
  const report = await detectDrift({
    env,
    grafana: grafanaTarget(input),
    reconcile,
    breakGlass: input["break-glass"],
    kubeconfig: input.kubeconfig,
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  });
  const file = workspacePath(input["report-file"]);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  await writeSummary(driftMarkdown(report));
  const runUrl = process.env.GITHUB_RUN_ID
    ? `${process.env.GITHUB_SERVER_URL ?? "https://github.com"}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}`
    : undefined;
  const issue = gh ? await reportDriftIssue(gh, report, runUrl) : undefined;
  if (issue) actionReporter.info(issue);
  const outcome = driftOutcome(report);
  outcome.outputs.report = file;
  outcome.outputs.issue = issue ?? "";
  return outcome;
});
