// Stands in for AWS Lambda's data plane: one execution environment of a nodejs24.x function, and
// the SQS event source mapping that feeds it. The zip that was deployed is unpacked into a task root
// and run by the real AWS Lambda Runtime Interface Emulator (aws-lambda-rie), whose Runtime API a
// Node 24 bootstrap (lambda-bootstrap.mjs, standing in for the managed runtime) polls. Node starts
// with the flags the managed runtime's bootstrap gives it (--expose-gc, heap sizes from the memory).
// What differs from AWS: one environment, invocations one at a time (no scale-out, no concurrency
// limits); memory and the read-only task root are not enforced, and nothing is frozen between
// invocations; the ARN in the context is RIE's (us-east-1, account 012345678912); RIE drops the
// X-Amz-Function-Error header, so a function error is recognised by its {errorType, errorMessage}
// payload; no CloudWatch Logs, X-Ray or extensions. The event source polls one batch at a time and
// ignores the batching window; a function error deletes nothing, as on AWS.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { toRecord } from "@content-engine/worker/sqs-record";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { unzipSync } from "fflate";
import { toolPath } from "../../../scripts/tools.ts";
import { freePort } from "../../support/moto.ts";

const BOOTSTRAP = join(dirname(fileURLToPath(import.meta.url)), "lambda-bootstrap.mjs");

/** Keys Lambda sets itself: CreateFunction / UpdateFunctionConfiguration refuse them in Environment. */
const RESERVED_KEYS = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
]);

const LOG_LIMIT = 4 * 1024 * 1024;

export interface LambdaStandInOptions {
  /** The deployment package, as Lambda stores it (GetFunction's Code.Location). */
  zip: Uint8Array;
  /** The CodeSha256 Lambda reports (base64 SHA-256 of the zip); a zip that does not match is refused. */
  codeSha256?: string;
  /** `module.export`, e.g. `index.handler`. */
  handler: string;
  /** The function configuration's variables; Lambda's reserved keys are refused, as Lambda does. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  functionName: string;
  /** AWS_REGION / AWS_DEFAULT_REGION, which Lambda sets. */
  region: string;
  /** What the execution role would give; default fixed dummy keys (emulators accept any). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The Node 24 binary, default process.execPath. */
  node?: string;
}

export interface LambdaInvocation {
  /** False on a function error, an init error or a timeout (AWS: X-Amz-Function-Error set). */
  ok: boolean;
  /** The function's result, or Lambda's error document `{errorType, errorMessage, ...}`. */
  payload: unknown;
}

export interface LambdaStandIn {
  /** A synchronous (RequestResponse) invoke; concurrent calls queue, one environment runs one at a time. */
  invoke(event: unknown): Promise<LambdaInvocation>;
  stop(): Promise<void>;
  /** What RIE and the function printed (START/END/REPORT lines, the function's stdout and stderr). */
  logs(): string;
}

/** The CodeSha256 Lambda reports for a deployment package: base64 of its SHA-256. */
export function codeSha256(zip: Uint8Array): string {
  return createHash("sha256").update(zip).digest("base64");
}

/**
 * Starts one execution environment of the function in `zip` and waits until RIE answers. Like
 * Lambda, the function initialises on the first invoke.
 *
 * @example
 * const lambda = await startLambdaStandIn({ zip, codeSha256: config.CodeSha256, handler: "index.handler",
 *   environment: config.Environment.Variables, timeoutSeconds: 60, memoryMb: 1024, functionName: "worker",
 *   region: "eu-west-1" });
 * const { ok, payload } = await lambda.invoke({ Records: [] });
 */
export async function startLambdaStandIn(options: LambdaStandInOptions): Promise<LambdaStandIn> {
  const actual = codeSha256(options.zip);
  if (options.codeSha256 !== undefined && options.codeSha256 !== actual) {
    throw new Error(
      `refusing to run ${options.functionName}: the zip's CodeSha256 is ${actual}, but the deployed function's is ${options.codeSha256}`,
    );
  }
  const reserved = Object.keys(options.environment).filter((key) => RESERVED_KEYS.has(key));
  if (reserved.length > 0) {
    throw new Error(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(", ")}`,
    );
  }
  const node = options.node ?? process.execPath;
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
  if (!version.startsWith("v24."))
    throw new Error(`nodejs24.x needs Node 24, but ${node} is ${version || "not runnable"}`);
  const rie = toolPath("aws-lambda-rie");

  const taskRoot = mkdtempSync(join(tmpdir(), `lambda-${options.functionName}-`));
  try {
    unpack(options.zip, taskRoot);
  } catch (error) {
    rmSync(taskRoot, { recursive: true, force: true });
    throw error;
  }
  const [invokePort, runtimeApiPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${invokePort}/2015-03-31/functions/function/invocations`;
  const child = spawn(
    rie,
    [
      // RIE would otherwise take its log level from LOG_LEVEL, which is the function's own variable.
      "--log-level",
      "info",
      "--runtime-interface-emulator-address",
      `127.0.0.1:${invokePort}`,
      "--runtime-api-address",
      `127.0.0.1:${runtimeApiPort}`,
      node,
      ...managedRuntimeNodeArgs(options.memoryMb),
      BOOTSTRAP,
    ],
    {
      // RIE runs the bootstrap in its own working directory, as Lambda runs it in /var/task.
      cwd: taskRoot,
      env: functionEnvironment(options, taskRoot, node),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > LOG_LIMIT) output = output.slice(-LOG_LIMIT / 2);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  child.on("error", (error) => append(Buffer.from(`aws-lambda-rie: ${error.message}\n`)));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));

  const stop = async () => {
    // RIE leaves the runtime (its own process group) behind when it exits: end both.
    const runtimes = child.pid === undefined ? [] : childPids(child.pid);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of runtimes) killGroup(pid);
    rmSync(taskRoot, { recursive: true, force: true });
  };

  try {
    await waitUntilAnswering(`http://127.0.0.1:${invokePort}/`, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }

  let queue: Promise<unknown> = Promise.resolve();
  return {
    invoke(event) {
      const run = queue.then(() => post(endpoint, JSON.stringify(event ?? null)));
      queue = run.catch(() => undefined);
      return run.then(({ status, body }) => interpret(status, body));
    },
    stop,
    logs: () => output,
  };
}

/** The node flags of the managed runtime's bootstrap: a tenth of the memory is new space, the rest old. */
function managedRuntimeNodeArgs(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    "--expose-gc",
    "--max-http-header-size=81920",
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

/**
 * RIE hands its whole environment to the bootstrap, so this is the function's environment: the
 * variables Lambda sets, then the configuration's. Nothing is inherited from this process.
 */
function functionEnvironment(options: LambdaStandInOptions, taskRoot: string, node: string) {
  const credentials = options.credentials ?? {
    accessKeyId: "AKIALAMBDASTANDIN000",
    secretAccessKey: "lambda-stand-in-secret",
    sessionToken: "lambda-stand-in-session",
  };
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    NODE_PATH: taskRoot,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs24.x",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    // RIE's own: the invoke deadline it enforces.
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString("hex")}`,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: dirname(BOOTSTRAP),
    _HANDLER: options.handler,
    ...options.environment,
  };
}

/** Writes the zip's files under `root`; an entry that would land outside it is an error. */
function unpack(zip: Uint8Array, root: string): void {
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    const path = resolve(root, name);
    if (!path.startsWith(root + sep))
      throw new Error(`the zip's entry ${JSON.stringify(name)} leaves the task root`);
    if (name.endsWith("/")) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
  }
}

async function waitUntilAnswering(url: string, child: ChildProcess, log: () => string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`aws-lambda-rie exited with ${child.exitCode ?? child.signalCode}:\n${log()}`);
    }
    // Any answer (RIE serves only the invoke path, so 404) means it listens; the invoke path itself
    // would initialise the function.
    const answered = await post(url, "", "GET").then(
      () => true,
      () => false,
    );
    if (answered) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`aws-lambda-rie did not answer on ${url} within ${timeoutMs} ms:\n${log()}`);
}

/** node:http rather than fetch: an invoke may take up to 900 s, longer than fetch's header timeout. */
function post(url: string, body: string, method = "POST"): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method, headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end(body);
  });
}

function interpret(status: number, body: string): LambdaInvocation {
  // RIE answers a timeout with 200 and this sentence; Lambda with an error document.
  if (status === 200 && /^Task timed out after /.test(body)) {
    return { ok: false, payload: { errorType: "Sandbox.Timedout", errorMessage: body } };
  }
  let payload: unknown = body;
  try {
    payload = body === "" ? null : JSON.parse(body);
  } catch {
    // not JSON: keep the text
  }
  return { ok: status >= 200 && status < 300 && !isErrorDocument(payload), payload };
}

/** What the runtime posts to /error: RIE returns it with 200, without X-Amz-Function-Error. */
function isErrorDocument(payload: unknown): boolean {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return false;
  const keys = Object.keys(payload);
  const known = new Set(["errorType", "errorMessage", "stackTrace", "trace", "cause"]);
  return (
    typeof (payload as { errorType?: unknown }).errorType === "string" &&
    typeof (payload as { errorMessage?: unknown }).errorMessage === "string" &&
    keys.every((key) => known.has(key))
  );
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export interface SqsEventSourceOptions {
  lambda: Pick<LambdaStandIn, "invoke">;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  /** The mapping's batch_size. */
  batchSize: number;
  region: string;
  /** Long-poll wait per ReceiveMessage (default 20, as Lambda's pollers). */
  waitTimeSeconds?: number;
}

export interface SqsEventSource {
  /** Stops polling, after the batch in flight (if any) is finished. */
  stop(): Promise<void>;
  /** Records the function handled: deleted from the queue. */
  readonly processed: number;
  /** Records left for the visibility timeout to return: reported in batchItemFailures, or in a failed invocation. */
  readonly released: number;
  /** Invocations that ended in a function error, an init error or a timeout. */
  readonly failedInvocations: number;
  /** The last error of the poller itself (ReceiveMessage, DeleteMessageBatch, the invoke endpoint). */
  readonly lastError: string | undefined;
}

/**
 * The SQS event source mapping with `function_response_types = ["ReportBatchItemFailures"]`, as
 * terraform/modules/lambda-worker configures it: receive a batch, invoke with Lambda's SQS event,
 * delete the records not listed in `batchItemFailures`.
 */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const { sqs, queueUrl } = options;
  let running = true;
  let processed = 0;
  let released = 0;
  let failedInvocations = 0;
  let lastError: string | undefined;
  let abort: AbortController | undefined;

  const receive = async (max: number, waitTimeSeconds: number): Promise<Message[]> => {
    abort = new AbortController();
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: abort.signal },
    );
    return out.Messages ?? [];
  };

  const receiveBatch = async (): Promise<Message[]> => {
    const batch = await receive(options.batchSize, options.waitTimeSeconds ?? 20);
    // Above ten, further receives fill the batch while the queue has messages.
    while (running && batch.length >= 10 && batch.length < options.batchSize) {
      const more = await receive(options.batchSize - batch.length, 0);
      if (more.length === 0) break;
      batch.push(...more);
    }
    return batch;
  };

  const handle = async (messages: Message[]): Promise<void> => {
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, options.queueArn, options.region)) };
    const { ok, payload } = await options.lambda.invoke(event);
    if (!ok) {
      failedInvocations += 1;
      released += messages.length;
      return;
    }
    const failures = (payload as Partial<SQSBatchResponse> | null)?.batchItemFailures ?? [];
    const ids = new Set(messages.map((m) => m.MessageId));
    // An identifier that names no record of the batch fails the whole batch, as on AWS.
    if (!Array.isArray(failures) || failures.some((f) => !ids.has(f?.itemIdentifier))) {
      failedInvocations += 1;
      released += messages.length;
      return;
    }
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      processed += out.Successful?.length ?? 0;
      if (out.Failed?.length) lastError = `DeleteMessageBatch failed: ${JSON.stringify(out.Failed)}`;
    }
    released += messages.length - done.length;
  };

  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const messages = await receiveBatch();
        if (messages.length > 0) await handle(messages);
      } catch (error) {
        if (!running) break;
        lastError = error instanceof Error ? error.message : String(error);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const looping = loop();

  return {
    async stop() {
      running = false;
      abort?.abort();
      await looping;
    },
    get processed() {
      return processed;
    },
    get released() {
      return released;
    },
    get failedInvocations() {
      return failedInvocations;
    },
    get lastError() {
      return lastError;
    },
  };
}
