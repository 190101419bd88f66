// The rehearsal's data plane: runs what the control plane says is deployed in an environment and sends
// a document through it. A control plane that holds the right digest proves nothing about what serves.
//
// - ECS: the service's current task definition, read from moto. Its `api` container runs with podman
//   from the image by digest in the local registry, with the task definition's command, environment,
//   secrets, user, read-only root filesystem, /tmp volume and dropped capabilities, and must pass the
//   task definition's health check. What differs: host networking with a port of its own (a task's
//   awsvpc interface); the secret's value (Secrets Manager's) is made up here; the AWS endpoint is the
//   local S3/SQS emulator, whose queue URLs stand in for the file's (same queue names).
// - Lambda: the alias's version, read from moto: its configuration (handler, timeout, memory,
//   environment) and its CodeSha256. moto in server mode serves no code download (GetFunction's
//   Location is an S3 URL it answers only in-process), so the bytes come from the registry's worker
//   bundle whose sha256 is that CodeSha256: the same bytes, by hash. They run under aws-lambda-rie
//   (lambda.ts), fed by a poller that stands for the alias's SQS event source mapping, with its batch size.
// - EKS: the same image digest run with the chart's consumer command (the worker Deployment's args).
import { randomBytes } from "node:crypto";
import { ECSClient } from "@aws-sdk/client-ecs";
import { LambdaClient, ListEventSourceMappingsCommand } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { type Environment, queueNames } from "@content-engine/environments";
import { startFauxqs } from "fauxqs";
import { bearer, submitText, waitFor } from "../../../services/local/test/support.ts";
import { type Container, podman, runContainer, withLogs } from "../../support/containers.ts";
import { chartEntryPoints } from "../../support/image-layout.ts";
import { freePort } from "../../support/moto.ts";
import { aliasConfiguration, serviceTaskDefinition } from "../observe.ts";
import { assume, client } from "../world.ts";
import { type LambdaStandIn, startLambdaStandIn, startSqsEventSource } from "./lambda.ts";

const LOCAL = { accessKeyId: "local", secretAccessKey: "local" };
const TENANT = "rehearsal";

export interface DataPlane {
  emulatorUrl: string;
  serve(env: Environment): Promise<Served>;
  stop(): Promise<void>;
}

/** What served a document in one environment: the report's record and the checks' observations. */
export interface Served {
  environment: string;
  /** The image the ECS task ran (repository@digest, from the task definition). */
  image?: string;
  /** The alias's CodeSha256: the bytes the Lambda stand-in ran. */
  codeSha256?: string;
  healthCheck: "passed" | "failed" | "none";
  /** The batch size of the event source mapping that fed the alias. */
  batchSize?: number;
  /** Job id and final status of the document sent through the API container to the Lambda worker. */
  lambdaJob?: { jobId: string; status: string };
  /** Job id and final status of the document the same image's consumer role (the chart's command) processed. */
  consumerJob?: { jobId: string; status: string };
  error?: string;
}

/** The S3/SQS emulator every environment's data plane uses (names from the environment files). */
export async function startDataPlane(moto: string, registry: string): Promise<DataPlane> {
  // "localhost", as the local stack: fauxqs builds queue URLs as sqs.<region>.<host>, which must parse.
  const emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  const local = { region: "eu-west-1", endpoint: emulator.address, credentials: LOCAL };
  const s3 = new S3Client({ ...local, forcePathStyle: true });
  const sqs = new SQSClient(local);

  /** The environment's bucket and queues in the emulator; its queue URLs mapped to the emulator's. */
  async function storage(env: Environment) {
    await s3.send(new CreateBucketCommand({ Bucket: env.bucket })).catch(() => undefined);
    const urls = new Map<string, string>();
    for (const url of [env.queue.dlqUrl, env.queue.url]) {
      if (!url) continue;
      const name = url.split("/").pop()!;
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      urls.set(url, created.QueueUrl!);
    }
    return urls;
  }

  const localised = (vars: Record<string, string>, urls: Map<string, string>) =>
    Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, urls.get(v) ?? v]));

  async function serve(env: Environment): Promise<Served> {
    const served: Served = { environment: env.name, healthCheck: "none" };
    const running: Container[] = [];
    let lambda: LambdaStandIn | undefined;
    let source: ReturnType<typeof startSqsEventSource> | undefined;
    try {
      const urls = await storage(env);
      const credentials = await assume(moto, env.deployRoleArn!);
      const key = `rh_${randomBytes(16).toString("base64url")}`;
      const aws = {
        AWS_REGION: env.region,
        AWS_DEFAULT_REGION: env.region,
        AWS_ENDPOINT_URL: emulator.address,
        AWS_ACCESS_KEY_ID: LOCAL.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey,
      };

      // --- ECS: the service's task definition, its api container.
      const ecs = client(ECSClient, moto, credentials, env.region);
      const { taskDefinition: td } = await serviceTaskDefinition(ecs, env);
      const api = td?.containerDefinitions?.find((c) => c.name === "api");
      if (!api)
        throw new Error(
          `${env.api.cluster}/${env.api.service} runs no task definition with an api container`,
        );
      served.image = api.image;
      const image = `${registry}/${api.image}`;
      podman(["pull", "--quiet", "--tls-verify=false", image]);
      const port = await freePort();
      const environment = localised(
        Object.fromEntries((api.environment ?? []).map((e) => [e.name!, e.value ?? ""])),
        urls,
      );
      const secrets = Object.fromEntries(
        (api.secrets ?? []).map((s) => [
          s.name!,
          s.name === "CONTENT_ENGINE_API_KEYS" ? `${key}:${TENANT}` : "",
        ]),
      );
      const taskEnv = { ...environment, ...secrets, ...aws, PORT: String(port), HOST: "127.0.0.1" };
      const task = runContainer(image, {
        name: `rehearsal-${env.name}-api`,
        env: taskEnv,
        command: api.command,
        user: api.user,
        readOnly: api.readonlyRootFilesystem === true,
        capDrop: api.linuxParameters?.capabilities?.drop?.includes("ALL"),
      });
      running.push(task);
      const apiUrl = `http://127.0.0.1:${port}`;
      await withLogs(
        task,
        waitFor(
          async () => (await fetch(`${apiUrl}/health`).catch(() => undefined))?.ok,
          90_000,
          `${env.name}'s API task to answer /health`,
        ),
      );
      served.healthCheck = healthCheck(task, api.healthCheck?.command);

      // --- Lambda: the alias's version, its configuration and its bytes.
      const lambdaApi = client(LambdaClient, moto, credentials, env.region);
      const { alias, config } = await aliasConfiguration(lambdaApi, env);
      served.codeSha256 = config.CodeSha256;
      const repository = env.image.repository;
      const blob = await fetch(
        `http://${registry}/v2/${repository}/blobs/sha256:${Buffer.from(config.CodeSha256!, "base64").toString("hex")}`,
      );
      if (!blob.ok)
        throw new Error(`the registry holds no worker bundle with CodeSha256 ${config.CodeSha256}`);
      lambda = await startLambdaStandIn({
        zip: new Uint8Array(await blob.arrayBuffer()),
        codeSha256: config.CodeSha256,
        handler: config.Handler!,
        // The endpoint is the one addition: AWS's S3 and SQS are the emulator here.
        environment: {
          ...localised(config.Environment?.Variables ?? {}, urls),
          AWS_ENDPOINT_URL: emulator.address,
        },
        timeoutSeconds: config.Timeout!,
        memoryMb: config.MemorySize!,
        functionName: env.worker.functionName,
        region: env.region,
        credentials: LOCAL,
      });
      const queueUrl = urls.get(env.queue.url)!;
      const queueArn = (
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
      ).Attributes!.QueueArn!;
      // The mapping that feeds the alias (terraform's), as moto holds it: its batch size.
      const { EventSourceMappings: mappings = [] } = await lambdaApi.send(
        new ListEventSourceMappingsCommand({ FunctionName: alias.AliasArn }),
      );
      const mapping = mappings.find((m) => m.EventSourceArn?.endsWith(`:${queueNames(env).jobs}`));
      if (!mapping?.BatchSize)
        throw new Error(`no event source mapping feeds ${alias.AliasArn} from the jobs queue`);
      served.batchSize = mapping.BatchSize;
      source = startSqsEventSource({
        lambda,
        sqs,
        queueUrl,
        queueArn,
        batchSize: mapping.BatchSize,
        region: env.region,
        waitTimeSeconds: 1,
      });
      served.lambdaJob = await document(apiUrl, key, `${env.name} through the deployed zip`);
      await source.stop();
      source = undefined;

      // --- EKS: the same digest, the chart's consumer command.
      const metricsPort = await freePort();
      const consumer = runContainer(image, {
        name: `rehearsal-${env.name}-consumer`,
        env: { ...environment, ...aws, WORKER_METRICS_PORT: String(metricsPort), HOST: "127.0.0.1" },
        command: chartEntryPoints(),
        user: api.user,
        readOnly: true,
        capDrop: true,
      });
      running.push(consumer);
      served.consumerJob = await document(apiUrl, key, `${env.name} through the image's consumer role`);
      if (served.consumerJob.status !== "succeeded") served.error = consumer.logs().slice(-2000);
      if (served.lambdaJob.status !== "succeeded") served.error = lambda.logs().slice(-2000);
    } catch (error) {
      served.error = (error as Error).message.slice(0, 4000);
    } finally {
      await source?.stop();
      await lambda?.stop();
      if (!process.env.REHEARSAL_KEEP_CONTAINERS) for (const c of running) c.stop();
    }
    return served;
  }

  return {
    emulatorUrl: emulator.address,
    serve,
    async stop() {
      s3.destroy();
      sqs.destroy();
      await emulator.stop();
    },
  };
}

/** ECS's container health check, `CMD` form (the image has no shell for `CMD-SHELL`), run now. */
function healthCheck(task: Container, command: string[] | undefined): Served["healthCheck"] {
  if (!command?.length) return "none";
  if (command[0] !== "CMD") return "failed";
  return task.exec(command.slice(1)).code === 0 ? "passed" : "failed";
}

/** Uploads a document through the API and waits until its job ends (60 s at most). */
async function document(
  apiUrl: string,
  key: string,
  text: string,
): Promise<{ jobId: string; status: string }> {
  const response = await submitText(
    apiUrl,
    key,
    `The rehearsal sends a document: ${text}. It must come back analysed.`,
    {
      query: "?filename=rehearsal.txt",
    },
  );
  if (response.status !== 202)
    throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`);
  const { jobId } = (await response.json()) as { jobId: string };
  let status = "queued";
  try {
    await waitFor(
      async () => {
        const job = (await (await fetch(`${apiUrl}/v1/jobs/${jobId}`, { headers: bearer(key) })).json()) as {
          status: string;
        };
        status = job.status;
        return status === "queued" ? undefined : status;
      },
      60_000,
      `job ${jobId}`,
    );
  } catch {
    // still queued after a minute: reported as such
  }
  return { jobId, status };
}
