import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request: forward it, answer 503, or drop the connection. */
export type Fault = "fail" | "reset" | undefined;

export interface AwsProxy {
  url: string;
  /** Requests seen per operation (`s3:PutObject`, `sqs:SendMessageBatch`, …), faulted ones included. */
  counts: Map<string, number>;
  /** TCP connections the clients opened (keep-alive reuses them). */
  connections: number;
  /** Every request seen, in order: operation and S3 key (if any). */
  log: Array<{ op: string; key: string | undefined }>;
  /** Decides a fault per request (default: none). */
  fault: (op: string, key: string | undefined) => Fault;
  /** Called as each request arrives, before it is forwarded. */
  onRequest: (op: string, key: string | undefined) => void;
  /** Called with the bodies of each forwarded SQS exchange once the answer is complete. */
  onSqsExchange: (op: string, request: string, answer: string) => void;
  total(filter?: (op: string) => boolean): number;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A real HTTP hop between the services and the S3+SQS emulator: it names and counts every AWS request
 * on the wire (SDK retries included) and can fail or drop chosen ones, as a flapping backend does.
 */
export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const upstream = new URL(target);
  const proxy: AwsProxy = {
    url: "",
    counts: new Map(),
    connections: 0,
    log: [],
    fault: () => undefined,
    onRequest: () => {},
    onSqsExchange: () => {},
    total(filter = () => true) {
      let n = 0;
      for (const [op, c] of this.counts) if (filter(op)) n += c;
      return n;
    },
    reset() {
      this.counts.clear();
      this.connections = 0;
      this.log.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { op, key } = classify(req);
    proxy.counts.set(op, (proxy.counts.get(op) ?? 0) + 1);
    proxy.log.push({ op, key });
    proxy.onRequest(op, key);
    const fault = proxy.fault(op, key);
    if (fault === "reset") {
      req.socket.destroy();
      return;
    }
    if (fault === "fail") {
      req.resume();
      req.on("end", () => {
        if (req.method === "HEAD") {
          res.writeHead(503).end();
        } else if (op.startsWith("sqs:")) {
          res.writeHead(503, { "content-type": "application/x-amz-json-1.0" });
          res.end(JSON.stringify({ __type: "com.amazonaws.sqs#ServiceUnavailable", message: "injected" }));
        } else {
          res.writeHead(503, { "content-type": "application/xml" });
          res.end("<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>");
        }
      });
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (op.startsWith("sqs:")) {
          const answered: Buffer[] = [];
          answer.on("data", (d: Buffer) => answered.push(d));
          answer.on("end", () =>
            proxy.onSqsExchange(
              op,
              Buffer.concat(sent).toString("utf8"),
              Buffer.concat(answered).toString("utf8"),
            ),
          );
        }
        answer.pipe(res);
      },
    );
    const sent: Buffer[] = [];
    if (op.startsWith("sqs:")) req.on("data", (d: Buffer) => sent.push(d));
    forward.on("error", () => res.destroy());
    // A client that goes away (a killed process) takes its connection, and its long poll, with it.
    res.on("close", () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 5000;
  server.on("connection", () => {
    proxy.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

function classify(req: IncomingMessage): { op: string; key: string | undefined } {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return { op: `sqs:${target.split(".").pop()}`, key: undefined };
  const url = new URL(req.url ?? "/", "http://x");
  const [, , ...rest] = url.pathname.split("/");
  const key = rest.length > 0 && rest.join("/") !== "" ? decodeURIComponent(rest.join("/")) : undefined;
  const q = url.searchParams;
  const m = req.method ?? "GET";
  let op: string;
  if (m === "PUT") op = !key ? "CreateBucket" : q.has("partNumber") ? "UploadPart" : "PutObject";
  else if (m === "POST")
    op = q.has("uploads")
      ? "CreateMultipartUpload"
      : q.has("uploadId")
        ? "CompleteMultipartUpload"
        : "DeleteObjects";
  else if (m === "GET") op = key ? "GetObject" : "ListObjectsV2";
  else if (m === "HEAD") op = key ? "HeadObject" : "HeadBucket";
  else if (m === "DELETE") op = q.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  else op = m;
  return { op: `s3:${op}`, key };
}
