// A counting HTTP proxy in front of an AWS endpoint (the fauxqs emulator, moto): every request is
// forwarded unchanged and recorded with its AWS operation, so a bench counts the requests a job
// really costs (what AWS bills) or times a process's first AWS call, without touching the process.
import { Agent, createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsCall {
  /** performance.timeOrigin + performance.now() when the request arrived, in ms (comparable across processes). */
  at: number;
  /** `sqs`, `s3`, or the X-Amz-Target / query-protocol service of another API (e.g. `AmazonEC2ContainerServiceV20141113`). */
  service: string;
  operation: string;
  /** ReceiveMessage that returned no message (idle long polling, not a cost of any job). */
  empty?: boolean;
  status?: number;
}

/**
 * The AWS operation of a request. JSON protocols name it in X-Amz-Target, query protocols in the
 * `Action` form field; anything else is REST: at an S3-compatible endpoint (`restIsS3`) named as S3
 * from the method, the path and the sub-resource, elsewhere (Lambda, EKS on moto) `METHOD /path`.
 */
export function awsOperation(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  formBody?: string,
  restIsS3 = true,
): { service: string; operation: string } {
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
  if (!restIsS3) return { service: "rest", operation: `${method} ${parsed.pathname}` };
  const q = parsed.searchParams;
  const hasKey = parsed.pathname.split("/").filter(Boolean).length > 1;
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
  return { service: "s3", operation };
}

const isForm = (headers: IncomingHttpHeaders) =>
  (headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");

export interface AwsProxy {
  url: string;
  /** Every request since the start or the last reset, in arrival order. */
  calls(): AwsCall[];
  /** TCP connections clients opened to the proxy since the start or the last reset. */
  connections(): number;
  reset(): void;
  stop(): Promise<void>;
}

export interface AwsProxyOptions {
  /** Runs as each request arrives, before it is forwarded. */
  onCall?: (call: AwsCall) => void;
  /** REST requests are S3 (default: true, as at fauxqs); false for moto's REST APIs. */
  restIsS3?: boolean;
}

/** Starts the proxy on a free loopback port, forwarding to `target` (e.g. http://127.0.0.1:4566). */
export async function startAwsProxy(target: string, options: AwsProxyOptions = {}): Promise<AwsProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let calls: AwsCall[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const at = performance.timeOrigin + performance.now();
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    // Query-protocol bodies are small forms: buffer them to read Action; stream everything else.
    const form = isForm(req.headers);
    const chunks: Buffer[] = [];
    const forward = (body?: Buffer) => {
      const { service, operation } = awsOperation(
        method,
        url,
        req.headers,
        body ? body.toString("utf8") : undefined,
        options.restIsS3 ?? true,
      );
      const call: AwsCall = { at, service, operation };
      calls.push(call);
      options.onCall?.(call);
      const out = request(
        { host: upstream.hostname, port: upstream.port, method, path: url, headers: req.headers, agent },
        (answer) => {
          call.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (operation !== "ReceiveMessage") {
            answer.pipe(res);
            return;
          }
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8");
            call.empty = !/"Messages"\s*:\s*\[\s*\{|<Message>/.test(text);
            res.end(text);
          });
        },
      );
      out.on("error", (error) => {
        call.status = 502;
        res.writeHead(502).end(String(error));
      });
      if (body) out.end(body);
      else req.pipe(out);
    };
    if (form) {
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => forward(Buffer.concat(chunks)));
    } else {
      forward();
    }
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
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
}

/** `{ "sqs SendMessage": 3, … }` of a list of calls, empty receives under their own name. */
export function countOperations(calls: readonly AwsCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) {
    const name = `${call.service} ${call.operation}${call.empty ? " (empty)" : ""}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
