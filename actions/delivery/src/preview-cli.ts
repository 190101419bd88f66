// `content-engine preview up|down|list|reap`: the CLI's preview block (cli.ts spreads these in).
import { DeliveryError } from "./errors.ts";
import type { Outcome } from "./outcome.ts";
import type { PreviewKind } from "./preview.ts";
import { runPreview } from "./preview-run.ts";

export const PREVIEW_USAGE = `  preview up     --pr <n> --digest sha256:… [--tag t] [--worker-bundle sha256:… | --zip lambda.zip]
                 [--max-count n] [--max-age-hours h] [--repository owner/name]
                 create or update pr-<n> from the environment file with a previews block; first
                 reaps what is over the cap (commenting on those PRs when GITHUB_TOKEN is set)
  preview down   --pr <n>   destroy pr-<n> and verify nothing tagged with it is left
  preview list   the previews that exist, oldest first
  preview reap   [--max-count n] [--max-age-hours h]   destroy previews over the age / count cap`;

export const PREVIEW_OPTIONS = {
  pr: { type: "string" },
  "max-count": { type: "string" },
  "max-age-hours": { type: "string" },
  skip: { type: "string", multiple: true },
} as const;

interface PreviewCliValues {
  pr?: string;
  digest?: string;
  tag?: string[];
  "worker-bundle"?: string;
  zip?: string;
  "max-count"?: string;
  "max-age-hours"?: string;
  skip?: string[];
  repository?: string;
  kubeconfig?: string;
  helm?: string;
  endpoint?: string;
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1)
    throw new DeliveryError(`--${name} "${value}" is not a whole number of at least 1`);
  return Number(value);
}

/** Runs `preview <operation>`; a list is printed as lines, everything else is an Outcome. */
export async function previewCli(
  operation: string | undefined,
  values: PreviewCliValues,
  dir: string,
  timeoutSeconds?: number,
): Promise<Outcome | string> {
  const repository = values.repository ?? process.env.GITHUB_REPOSITORY;
  const result = await runPreview({
    command: operation ?? "",
    environmentsDir: dir,
    pullRequest: values.pr,
    digest: values.digest,
    tag: values.tag?.[0],
    workerBundle: values["worker-bundle"],
    zipFile: values.zip,
    maxCount: count("max-count", values["max-count"]),
    maxAgeHours: count("max-age-hours", values["max-age-hours"]),
    skip: values.skip as PreviewKind[] | undefined,
    github:
      repository && process.env.GITHUB_TOKEN
        ? { token: process.env.GITHUB_TOKEN, repository, apiUrl: process.env.GITHUB_API_URL }
        : undefined,
    aws: values.endpoint ? { endpoint: values.endpoint } : {},
    kubeconfig: values.kubeconfig,
    helm: values.helm,
    timeoutSeconds,
  });
  if (!Array.isArray(result)) return result;
  if (result.length === 0) return "no previews";
  return result.map((p) => `${p.name}\tcreated ${p.createdAt}\t${p.url ?? ""}`).join("\n");
}
