// Fixtures for observability-apply: the ALB terraform would leave in moto, generated alarms in a
// scratch folder, and a local fake of Grafana's dashboard HTTP API.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { createClient } from "@content-engine/delivery";
import { loadBalancerNames, loadEnvironment } from "@content-engine/environments";
import { awsFor } from "../../../test/support/delivery-fixtures.ts";
import { repositoryRoot } from "../../delivery/test/support/run-action.ts";

export const generatedAlarmsFile = (env: string) =>
  join(repositoryRoot, "alarms", "generated", env, "cloudwatch-alarms.json");
export const dashboardsDir = join(repositoryRoot, "dashboards", "generated");

export interface AlarmsFile {
  namePrefix: string;
  metricAlarms: Array<Record<string, unknown> & { AlarmName: string; Threshold: number }>;
  compositeAlarms: Array<Record<string, unknown> & { AlarmName: string; AlarmRule: string }>;
}

export function generatedAlarms(env = "dev"): AlarmsFile {
  return JSON.parse(readFileSync(generatedAlarmsFile(env), "utf8")) as AlarmsFile;
}

/**
 * A scratch alarms folder holding `alarms` as <env>/cloudwatch-alarms.json. moto 5.2 has no
 * PutCompositeAlarm, so moto tests pass the metric alarms only; composites are covered with a mocked client.
 */
export function alarmsFolder(alarms: AlarmsFile, env = "dev"): string {
  const dir = mkdtempSync(join(tmpdir(), "alarms-"));
  mkdirSync(join(dir, env));
  writeFileSync(join(dir, env, "cloudwatch-alarms.json"), JSON.stringify(alarms));
  return dir;
}

/** The API load balancer and target group terraform creates, named as the environment file records them. */
export async function createLoadBalancer(endpoint: string, env = "dev") {
  const names = loadBalancerNames(loadEnvironment(env, join(repositoryRoot, "environments")));
  const aws = awsFor(endpoint);
  const ec2 = createClient(EC2Client, aws);
  const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
  const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.filter((s) => s.VpcId === vpc);
  const elb = createClient(ElasticLoadBalancingV2Client, aws);
  const lb = await elb.send(
    new CreateLoadBalancerCommand({
      Name: names.loadBalancer,
      Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
    }),
  );
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: names.targetGroup,
      Protocol: "HTTP",
      Port: 8080,
      VpcId: vpc,
      TargetType: "ip",
    }),
  );
  const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
  const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
  return {
    loadBalancer: lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length),
    targetGroup: tgArn.slice(tgArn.lastIndexOf(":") + 1),
  };
}

export interface FakeGrafana {
  url: string;
  token: string;
  /** uid → { dashboard, folderUid } as saved. */
  saved: Map<string, { dashboard: Record<string, unknown>; folderUid: string; version: number }>;
  posts: number;
  annotations: Array<{ time: number; tags: string[]; text: string }>;
  folders: Set<string>;
  /** Every request, in order: `POST /api/annotations`. */
  requests: string[];
  /** Answer the next this many requests with 503, as a Grafana that restarts does. */
  unavailable: number;
  /** Dashboard uids whose save Grafana refuses with 400. */
  refused: Set<string>;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

/** Grafana's `GET /api/dashboards/uid/:uid` and `POST /api/dashboards/db`, with a Bearer token. */
export async function startFakeGrafana(token = "glsa_test_token_0123456789"): Promise<FakeGrafana> {
  const state: FakeGrafana = {
    url: "",
    token,
    saved: new Map(),
    posts: 0,
    annotations: [],
    folders: new Set(),
    requests: [],
    unavailable: 0,
    refused: new Set(),
    stop: async () => {},
  };
  const server = createServer(async (req, res) => {
    const reply = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    state.requests.push(`${req.method} ${req.url}`);
    if (state.unavailable > 0) {
      state.unavailable -= 1;
      return reply(503, { message: "Service Unavailable" });
    }
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { message: "Unauthorized" });
    const get = /^\/api\/dashboards\/uid\/([^/?]+)$/.exec(req.url ?? "");
    if (req.method === "GET" && get) {
      const found = state.saved.get(decodeURIComponent(get[1]!));
      if (!found) return reply(404, { message: "Dashboard not found" });
      return reply(200, {
        dashboard: { ...found.dashboard, id: 7, version: found.version },
        meta: { folderUid: found.folderUid },
      });
    }
    if (req.method === "POST" && req.url === "/api/dashboards/db") {
      state.posts += 1;
      const payload = JSON.parse(await body(req)) as {
        dashboard: Record<string, unknown>;
        folderUid: string;
        overwrite: boolean;
      };
      // Grafana answers 400 "folder not found" for a folder that does not exist.
      if (payload.folderUid && !state.folders.has(payload.folderUid))
        return reply(400, { message: "folder not found" });
      const uid = String(payload.dashboard.uid);
      if (state.refused.has(uid)) return reply(400, { message: `dashboard ${uid}: invalid panel` });
      const previous = state.saved.get(uid);
      if (previous && !payload.overwrite) return reply(412, { status: "version-mismatch" });
      const version = (previous?.version ?? 0) + 1;
      state.saved.set(uid, { dashboard: payload.dashboard, folderUid: payload.folderUid, version });
      return reply(200, { id: 7, uid, status: "success", version, url: `/d/${uid}` });
    }
    const folder = /^\/api\/folders\/([^/?]+)$/.exec(req.url ?? "");
    if (req.method === "GET" && folder) {
      const uid = decodeURIComponent(folder[1]!);
      return state.folders.has(uid)
        ? reply(200, { uid, title: uid })
        : reply(404, { message: "folder not found" });
    }
    if (req.method === "POST" && req.url === "/api/folders") {
      const { uid, title } = JSON.parse(await body(req)) as { uid: string; title: string };
      state.folders.add(uid);
      return reply(200, { uid, title });
    }
    if (req.method === "POST" && req.url === "/api/annotations") {
      const annotation = JSON.parse(await body(req)) as FakeGrafana["annotations"][number];
      state.annotations.push(annotation);
      return reply(200, { id: state.annotations.length, message: "Annotation added" });
    }
    reply(404, { message: "Not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}
