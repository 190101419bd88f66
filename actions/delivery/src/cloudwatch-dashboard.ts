// Publishing the generated CloudWatch dashboard of one environment (dashboards/generated/cloudwatch/<env>.json).
import { join } from "node:path";
import { type CloudWatchClient, GetDashboardCommand, PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import type { Environment } from "@content-engine/environments";
import { type AlbLookup, resolveAlbReferences } from "./alarm-reconcile.ts";
import type { DashboardChange } from "./dashboards.ts";
import { explainAwsError } from "./errors.ts";
import { readGeneratedJson } from "./generated.ts";

interface GeneratedCloudWatchDashboard {
  DashboardName: string;
  DashboardBody: string;
}

/**
 * The dashboard, when its live body differs from the generated one (compared as JSON, not as text).
 * Its ALB widgets name the load balancer and target group by reference; `lookup` gives their ids.
 */
export async function cloudWatchDashboardChanges(
  cloudwatch: CloudWatchClient,
  env: Environment,
  dashboardsDir: string,
  lookup: AlbLookup,
): Promise<DashboardChange[]> {
  const generated = readGeneratedJson<GeneratedCloudWatchDashboard>(
    join(dashboardsDir, "cloudwatch", `${env.name}.json`),
    "generated CloudWatch dashboard",
  );
  const desired = {
    ...generated,
    DashboardBody: await resolveAlbReferences(generated.DashboardBody, lookup),
  };
  let live: string | undefined;
  try {
    live = (await cloudwatch.send(new GetDashboardCommand({ DashboardName: desired.DashboardName })))
      .DashboardBody;
  } catch (error) {
    if (!/ResourceNotFound|NotFound/.test((error as Error).name)) throw explainAwsError(error);
  }
  const same =
    live !== undefined &&
    JSON.stringify(JSON.parse(live)) === JSON.stringify(JSON.parse(desired.DashboardBody));
  if (same) return [];
  return [
    {
      where: "cloudwatch",
      name: desired.DashboardName,
      action: live === undefined ? "create" : "update",
      publish: async () => {
        try {
          await cloudwatch.send(new PutDashboardCommand(desired));
        } catch (error) {
          throw explainAwsError(error);
        }
      },
    },
  ];
}
