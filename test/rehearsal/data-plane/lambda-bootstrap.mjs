// Stands in for the runtime interface client of Lambda's managed nodejs24.x runtime: the process
// aws-lambda-rie starts as the function's bootstrap. It imports the handler named by _HANDLER from
// LAMBDA_TASK_ROOT, then loops on the Runtime API (AWS_LAMBDA_RUNTIME_API): next invocation, call the
// handler, post its result or its error. An import that fails is posted as an init error.
// What differs from AWS: no console patching (lines reach stdout as written, without the request id
// or the JSON log format), no callback-style handlers (nodejs24.x dropped them too), no response
// streaming, no X-Ray; an uncaught exception ends the process, which RIE reports as Runtime.ExitError.
import { existsSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const handlerName = process.env._HANDLER ?? "";
const agent = new Agent({ keepAlive: true });

/** One Runtime API call. node:http, not fetch: /next is a long poll with no deadline. */
function runtimeApi(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      `http://${api}/2018-06-01/runtime${path}`,
      { method, agent, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function errorPayload(error, fallbackType) {
  const isError = error instanceof Error;
  return {
    errorType: isError ? error.name : fallbackType,
    errorMessage: isError ? error.message : String(error),
    stackTrace:
      isError && error.stack
        ? error.stack
            .split("\n")
            .slice(1)
            .map((line) => line.trim())
        : [],
  };
}

async function postError(path, error, fallbackType) {
  const payload = errorPayload(error, fallbackType);
  await runtimeApi("POST", path, JSON.stringify(payload), {
    "lambda-runtime-function-error-type": payload.errorType,
  });
}

/** `dir/index.handler` → the export `handler` of `dir/index.{js,mjs,cjs}` under the task root. */
async function loadHandler() {
  const dot = handlerName.lastIndexOf(".");
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${JSON.stringify(handlerName)}: expected module.export`), {
      name: "Runtime.MalformedHandlerName",
    });
  }
  const modulePath = join(taskRoot, handlerName.slice(0, dot));
  const exportName = handlerName.slice(dot + 1);
  const file = [".js", ".mjs", ".cjs"].map((ext) => modulePath + ext).find((path) => existsSync(path));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}'`), {
      name: "Runtime.ImportModuleError",
    });
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${handlerName} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return handler;
}

function contextFor(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const json = (name) => (headers[name] ? JSON.parse(String(headers[name])) : undefined);
  return {
    awsRequestId: String(headers["lambda-runtime-aws-request-id"]),
    invokedFunctionArn: String(headers["lambda-runtime-invoked-function-arn"] ?? ""),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: json("lambda-runtime-client-context"),
    identity: json("lambda-runtime-cognito-identity"),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  await postError("/init/error", error, "Runtime.ImportModuleError");
  process.exit(1);
}

for (;;) {
  const next = await runtimeApi("GET", "/invocation/next");
  if (next.status !== 200) throw new Error(`/invocation/next answered ${next.status}: ${next.body}`);
  const context = contextFor(next.headers);
  const traceId = next.headers["lambda-runtime-trace-id"];
  if (traceId) process.env._X_AMZN_TRACE_ID = String(traceId);
  else delete process.env._X_AMZN_TRACE_ID;
  const invocation = `/invocation/${context.awsRequestId}`;
  let response;
  try {
    response = JSON.stringify((await handler(JSON.parse(next.body), context)) ?? null);
  } catch (error) {
    await postError(`${invocation}/error`, error, "Error");
    continue;
  }
  await runtimeApi("POST", `${invocation}/response`, response);
}
