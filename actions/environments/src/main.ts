// environments action: reads every environment file, checks them together, and answers what a
// workflow's matrix needs (names, promotions, the build environment, changed files) as outputs.
import * as core from "@actions/core";
import { describeEnvironmentSet, readInputs, workspacePath, writeSummary } from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  "environments-dir": z.string().default("environments"),
  environment: z.string().optional(),
  "changed-since": z
    .string()
    .regex(/^([0-9a-f]{7,64}|HEAD(\^|~\d+)?)$/, { message: "a commit sha or HEAD^" })
    .optional(),
});

try {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const summary = describeEnvironmentSet({
    dir: workspacePath(input["environments-dir"]),
    environment: input.environment,
    changedSince: input["changed-since"],
    cwd: workspacePath("."),
  });
  core.setOutput("names", JSON.stringify(summary.names));
  core.setOutput("build", summary.build);
  core.setOutput("promotions", JSON.stringify(summary.promotions));
  core.setOutput("preview-base", summary.previewBase);
  core.setOutput("preview-role", summary.previewRole);
  core.setOutput("preview-region", summary.previewRegion);
  core.setOutput("environment", summary.environment);
  core.setOutput("changed", JSON.stringify(summary.changed));
  core.info(
    `environments: ${summary.names.join(", ")}; promotions: ${summary.promotions.map((p) => `${p.from} -> ${p.to}`).join(", ") || "none"}`,
  );
} catch (error) {
  const message = (error as Error).message ?? String(error);
  await writeSummary(`### ❌ environment files\n\n${message}\n`).catch(() => undefined);
  core.setFailed(message);
}
