// A real HTTP hop in front of an AWS endpoint (the fauxqs emulator, moto). It records every request
// on the wire with its AWS operation (SDK retries included), so a test or a bench counts the requests
// a job really costs (what AWS bills) or times a process's first AWS call without touching the process,
// and it can answer chosen requests with a 503 or drop their connection, as a flapping backend does.
// No vitest import: bench scripts run it outside a test (bench/emulator-process.ts).
import { Agent, createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request instead of forwarding it: answer 503, or drop the connection. */
export type Fault = "fail" | "reset";

export interface AwsCall {
  /** performance.timeOrigin + performance.now() when the request arrived, in ms (comparable across processes). */
  at: number;
  /** `sqs`, `s3`, or the X-Amz-Target / query-protocol service of another API (e.g. `AmazonEC2ContainerServiceV20141113`). */
  service: string;
  operation: string;
  /** The object key of an S3 request (decoded, without the bucket), when it names one. */
  key?: string;
  /** Set when the proxy did not forward the request: it answered 503 (`fail`) or dropped the connection (`reset`). */
  fault?: Fault;
  /** ReceiveMessage that returned no message (idle long polling, not a cost of any job). */
  empty?: boolean;
  /** The status the client got, once the answer has started. */
  status?: number;
  /** The access key the request was signed with (SigV4 `Credential=`): who made it. Unset when unsigned. */
  accessKeyId?: string;
}

/** One whole request and its answer, for `onExchange` (e.g. to decide what IAM would have authorised). */
export interface AwsExchange {
  call: AwsCall;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  request: Buffer;
  /** Empty when the proxy faulted the request instead of forwarding it. */
  answer: Buffer;
}

/**
 * The AWS operation of a request. JSON protocols name it in X-Amz-Target, query protocols in the
 * `Action` form field; anything else is REST: at an S3-compatible endpoint (`restIsS3`) named as S3
 * from the method, the path and the sub-resource (with the object key), elsewhere (Lambda, EKS on
 * moto) `METHOD /path`.
 */
export function awsOperation(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  formBody?: string,
  restIsS3 = true,
): { service: string; operation: string; key?: string } {
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target.includes(".")) {
    const [prefix, operation] = target.split(".", 2) as [string, string];
    return { service: prefix === "AmazonSQS" ? "sqs" : prefix, operation };
  }
  if (formBody !== undefined) {
    const action = new URLSearchParams(formBody).get("Action");
    if (action) return { service: "query", operation: action };
  }
  const parsed = new URL(url, "http://aws");
  // moto serves S3 beside its other REST APIs: a request signed for service s3 is S3 there too.
  const signedFor = String(headers.authorization ?? "").match(
    /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//,
  )?.[1];
  if (!restIsS3 && signedFor !== "s3") return { service: "rest", operation: `${method} ${parsed.pathname}` };
  const q = parsed.searchParams;
  const path = parsed.pathname.split("/").slice(2).join("/");
  const key = path === "" ? undefined : decodeKey(path);
  const hasKey = key !== undefined;
  const operation = (() => {
    switch (method) {
      case "PUT":
        if (!hasKey) return "CreateBucket";
        if (q.has("partNumber")) return "UploadPart";
        if (q.has("tagging")) return "PutObjectTagging";
        return headers["x-amz-copy-source"] ? "CopyObject" : "PutObject";
      case "POST":
        if (q.has("uploads")) return "CreateMultipartUpload";
        if (q.has("uploadId")) return "CompleteMultipartUpload";
        if (q.has("delete")) return "DeleteObjects";
        return "PostObject";
      case "GET":
        if (hasKey) return q.has("tagging") ? "GetObjectTagging" : "GetObject";
        return q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
      case "HEAD":
        return hasKey ? "HeadObject" : "HeadBucket";
      case "DELETE":
        if (q.has("uploadId")) return "AbortMultipartUpload";
        return hasKey ? "DeleteObject" : "DeleteBucket";
      default:
        return `${method} ${parsed.pathname}`;
    }
  })();
  return hasKey ? { service: "s3", operation, key } : { service: "s3", operation };
}

/** A malformed escape is the client's bug, not a reason to take the proxy down: keep it as sent. */
function decodeKey(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The access key id of a SigV4 Authorization header (`… Credential=AKID/date/region/service/aws4_request, …`). */
export function signingAccessKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  return typeof auth === "string" ? auth.match(/Credential=([^/,\s]+)\//)?.[1] : undefined;
}

const isForm = (headers: IncomingHttpHeaders) =>
  (headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");

/** What a test may change while the proxy runs (each defaults to doing nothing). */
export interface AwsProxyHooks {
  /** Runs as each request arrives, before it is faulted or forwarded. */
  onCall: (call: AwsCall) => void;
  /** Decides per request whether to fault it instead of forwarding it (undefined: forward). */
  fault: (call: AwsCall) => Fault | undefined;
  /** Runs with the bodies of each forwarded SQS (JSON protocol) exchange once the answer is complete. */
  onSqsExchange: (call: AwsCall, request: string, answer: string) => void;
}

export interface AwsProxy extends AwsProxyHooks {
  url: string;
  /** Every request since the start or the last reset, in arrival order, faulted ones included. */
  calls(): AwsCall[];
  /** TCP connections clients opened to the proxy since the start or the last reset (keep-alive reuses them). */
  connections(): number;
  reset(): void;
  stop(): Promise<void>;
}

export interface AwsProxyOptions extends Partial<AwsProxyHooks> {
  /** REST requests are S3 (default: true, as at fauxqs); false for moto's REST APIs. */
  restIsS3?: boolean;
  /**
   * Runs with every request and its answer once the answer is complete (faulted requests with an empty
   * answer). Bodies are buffered for it, except those `withBodies` refuses (then both are empty).
   */
  onExchange?: (exchange: AwsExchange) => void;
  /** Which calls' bodies `onExchange` gets (default: all but S3 object data). */
  withBodies?: (call: AwsCall) => boolean;
}

/** S3 requests whose bodies are object data, not parameters: not buffered for onExchange by default. */
const objectData = (call: AwsCall) =>
  call.service === "s3" && ["PutObject", "UploadPart", "GetObject", "PostObject"].includes(call.operation);

/** The 503 a flapping backend answers, in the request's protocol. */
function unavailable(method: string, call: AwsCall): { headers: Record<string, string>; body: string } {
  if (method === "HEAD") return { headers: {}, body: "" };
  if (call.service === "sqs") {
    return {
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify({ __type: "com.amazonaws.sqs#ServiceUnavailable", message: "injected" }),
    };
  }
  return {
    headers: { "content-type": "application/xml" },
    body: "<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>",
  };
}

/** Starts the proxy on a free loopback port, forwarding to `target` (e.g. http://127.0.0.1:4566). */
export async function startAwsProxy(target: string, options: AwsProxyOptions = {}): Promise<AwsProxy> {
  const upstream = new URL(target);
  const restIsS3 = options.restIsS3 ?? true;
  const onExchange = options.onExchange;
  const withBodies = options.withBodies ?? ((call: AwsCall) => !objectData(call));
  const agent = new Agent({ keepAlive: true });
  let calls: AwsCall[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const at = performance.timeOrigin + performance.now();
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    // Query-protocol bodies are small forms: buffer them to read Action; stream everything else.
    const form = isForm(req.headers);
    const handle = (body?: Buffer) => {
      const call: AwsCall = {
        at,
        ...awsOperation(method, url, req.headers, body?.toString("utf8"), restIsS3),
      };
      const accessKeyId = signingAccessKey(req.headers);
      if (accessKeyId) call.accessKeyId = accessKeyId;
      const exchange = (request: Buffer, answer: Buffer) =>
        onExchange?.({ call, method, url, headers: req.headers, request, answer });
      calls.push(call);
      proxy.onCall(call);
      const fault = proxy.fault(call);
      if (fault === "reset") {
        call.fault = fault;
        exchange(body ?? Buffer.alloc(0), Buffer.alloc(0));
        req.socket.destroy();
        return;
      }
      if (fault === "fail") {
        call.fault = fault;
        call.status = 503;
        const answer = unavailable(method, call);
        const send = (request: Buffer) => {
          exchange(request, Buffer.alloc(0));
          res.writeHead(503, answer.headers).end(answer.body);
        };
        if (body) send(body);
        else {
          const parts: Buffer[] = [];
          const bodies = Boolean(onExchange) && withBodies(call);
          req.on("data", (part: Buffer) => bodies && parts.push(part));
          req.on("end", () => send(Buffer.concat(parts)));
        }
        return;
      }
      forward(call, body, exchange);
    };
    const forward = (
      call: AwsCall,
      body: Buffer | undefined,
      exchange: (request: Buffer, answer: Buffer) => void,
    ) => {
      const bodies = Boolean(onExchange) && withBodies(call);
      // SQS exchanges are small: keep both bodies to tell an empty receive and for onSqsExchange.
      const keep = call.service === "sqs" || call.operation === "ReceiveMessage" || bodies;
      const sent: Buffer[] = [];
      const out = request(
        { host: upstream.hostname, port: upstream.port, method, path: url, headers: req.headers, agent },
        (answer) => {
          call.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (keep) {
            const answered: Buffer[] = [];
            answer.on("data", (part: Buffer) => answered.push(part));
            // Registered before the pipe's own: the call is complete before the client has its answer.
            answer.on("end", () => {
              const text = Buffer.concat(answered).toString("utf8");
              if (call.operation === "ReceiveMessage") {
                call.empty = !/"Messages"\s*:\s*\[\s*\{|<Message>/.test(text);
              }
              if (call.service === "sqs") {
                proxy.onSqsExchange(call, (body ?? Buffer.concat(sent)).toString("utf8"), text);
              }
              if (bodies) exchange(body ?? Buffer.concat(sent), Buffer.concat(answered));
            });
          } else if (onExchange) {
            answer.on("end", () => exchange(Buffer.alloc(0), Buffer.alloc(0)));
          }
          answer.pipe(res);
        },
      );
      // The upstream failed: the client sees a broken connection, as it would without the proxy.
      out.on("error", () => res.destroy());
      // A client that goes away (a killed process) takes its connection, and its long poll, with it.
      res.on("close", () => {
        if (!res.writableFinished) out.destroy();
      });
      if (body) {
        out.end(body);
        return;
      }
      if (keep) req.on("data", (part: Buffer) => sent.push(part));
      req.pipe(out);
    };
    if (form) {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => handle(Buffer.concat(chunks)));
    } else {
      handle();
    }
  });
  server.keepAliveTimeout = 5000;
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: AwsProxy = {
    url: `http://127.0.0.1:${port}`,
    onCall: options.onCall ?? (() => {}),
    fault: options.fault ?? (() => undefined),
    onSqsExchange: options.onSqsExchange ?? (() => {}),
    calls: () => [...calls],
    connections: () => connections,
    reset: () => {
      calls = [];
      connections = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
  return proxy;
}

/**
 * `{ "sqs SendMessage": 3, … }` of a list of calls; empty receives and faulted requests (which never
 * reached the endpoint) under their own names: `sqs ReceiveMessage (empty)`, `s3 PutObject (fail)`.
 */
export function countOperations(calls: readonly AwsCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const suffix = call.fault ? ` (${call.fault})` : call.empty ? " (empty)" : "";
    const name = `${call.service} ${call.operation}${suffix}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
