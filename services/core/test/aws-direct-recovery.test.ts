// How the direct PutObject and SendMessageBatch (src/aws-direct.ts) recover from the two answers the
// emulators cannot give: a server whose clock is an hour ahead of ours (they answer with our own
// clock), and a throttle that says when to come back (Retry-After). A small HTTP server on loopback
// stands in for S3 and SQS in each; every case runs through `send` too, on its own client, and the
// direct path must recover as `send` does.

import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createS3Client, createSqsClient, putObjectDirect, sendMessageBatchDirect } from "../src/index.ts";

process.env.AWS_ACCESS_KEY_ID ??= "local";
process.env.AWS_SECRET_ACCESS_KEY ??= "local";

interface Arrival {
  /** performance.now() when the request arrived. */
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface StandIn {
  url: string;
  arrivals: Arrival[];
  close(): Promise<void>;
}

/** An HTTP server on loopback answering each request with `answer` (given it and its index). */
async function startStandIn(answer: (request: Arrival, index: number) => Answer): Promise<StandIn> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const arrival = { at, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      arrivals.push(arrival);
      const out = answer(arrival, arrivals.length - 1);
      res.writeHead(out.status, out.headers).end(out.body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

type Service = "s3" | "sqs";

/** What S3 or SQS answers when it accepts the call (with the MD5s `send` checks). */
function accepted(service: Service, request: Arrival, headers: Record<string, string> = {}): Answer {
  if (service === "s3") return { status: 200, headers: { etag: '"accepted"', ...headers }, body: "" };
  const { Entries } = JSON.parse(request.body) as { Entries: Array<{ Id: string; MessageBody: string }> };
  return {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.0", ...headers },
    body: JSON.stringify({
      Successful: Entries.map((e) => ({
        Id: e.Id,
        MessageId: `m-${e.Id}`,
        MD5OfMessageBody: createHash("md5").update(e.MessageBody).digest("hex"),
      })),
      Failed: [],
    }),
  };
}

/** An AWS error answer in the service's protocol. */
function refused(
  service: Service,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string>,
  extraXml = "",
): Answer {
  return service === "s3"
    ? {
        status,
        headers: { "content-type": "application/xml", ...headers },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extraXml}<RequestId>r</RequestId></Error>`,
      }
    : {
        status,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-query-error": `${code};Sender`,
          ...headers,
        },
        body: JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }),
      };
}

function clientFor(service: Service, endpoint: string): S3Client | SQSClient {
  return service === "s3"
    ? createS3Client({ region: "eu-west-1", endpoint })
    : createSqsClient({ region: "eu-west-1", endpoint });
}

/** One PutObject (S3) or SendMessageBatch (SQS), through the direct path or through `send`. */
function call(
  service: Service,
  path: "direct" | "send",
  client: S3Client | SQSClient,
  endpoint: string,
): Promise<unknown> {
  if (service === "s3") {
    const input = { Bucket: "uploads", Key: "t/k.txt", Body: Buffer.from("body"), ContentType: "text/plain" };
    const s3 = client as S3Client;
    return path === "direct" ? putObjectDirect(s3, input) : s3.send(new PutObjectCommand(input));
  }
  const input = {
    QueueUrl: `${endpoint}/000000000000/jobs`,
    Entries: [{ Id: "0", MessageBody: '{"jobId":"a"}' }],
  };
  const sqs = client as SQSClient;
  return path === "direct"
    ? sendMessageBatchDirect(sqs, input)
    : sqs.send(new SendMessageBatchCommand(input));
}

const offsetOf = (client: S3Client | SQSClient) =>
  (client.config as unknown as { systemClockOffset: number }).systemClockOffset;

/** The signing time of a SigV4 request (X-Amz-Date, 20260304T050607Z), in ms. */
function signedAt(headers: IncomingHttpHeaders): number {
  const d = String(headers["x-amz-date"]);
  return Date.parse(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
}

const HOUR = 3_600_000;
/** AWS refuses a signature more than 15 minutes from its clock. */
const MAX_SKEW = 15 * 60_000;

describe("a server whose clock is an hour ahead (a stand-in: the emulators answer with our clock)", () => {
  const refusals: Array<[string, Service, (serverNow: Date) => Answer]> = [
    [
      "S3's RequestTimeTooSkewed (403, ServerTime in the document)",
      "s3",
      (now) =>
        refused(
          "s3",
          403,
          "RequestTimeTooSkewed",
          "The difference between the request time and the current time is too large.",
          { date: now.toUTCString() },
          `<ServerTime>${now.toISOString()}</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>`,
        ),
    ],
    [
      "S3's SignatureDoesNotMatch (403, only the Date header)",
      "s3",
      (now) =>
        refused("s3", 403, "SignatureDoesNotMatch", "The request signature we calculated does not match.", {
          date: now.toUTCString(),
        }),
    ],
    [
      "SQS's InvalidSignatureException (400, signature expired)",
      "sqs",
      (now) =>
        refused("sqs", 400, "InvalidSignatureException", "Signature expired: is now earlier than (15 min.)", {
          date: now.toUTCString(),
        }),
    ],
  ];

  it.each(refusals)(
    "takes its clock from the answer to %s, signs again and succeeds on the retry, as send does",
    async (_, service, refusal) => {
      const results: Record<
        string,
        { attempts: number; learntServerClock: boolean; retrySignedRight: boolean }
      > = {};
      for (const path of ["direct", "send"] as const) {
        const server = await startStandIn((request) => {
          const serverNow = new Date(Date.now() + HOUR);
          return Math.abs(signedAt(request.headers) - serverNow.getTime()) > MAX_SKEW
            ? refusal(serverNow)
            : accepted(service, request, { date: serverNow.toUTCString() });
        });
        const client = clientFor(service, server.url);
        try {
          await call(service, path, client, server.url);
          const retry = server.arrivals[1];
          results[path] = {
            attempts: server.arrivals.length,
            // The client's systemClockOffset is the hour, to the second or two (Date has whole seconds).
            learntServerClock: Math.abs(offsetOf(client) - HOUR) <= 2000,
            // The retry was signed on the server's clock, not ours.
            retrySignedRight:
              retry !== undefined && Math.abs(signedAt(retry.headers) - (Date.now() + HOUR)) < 60_000,
          };
          // The offset stays on the client: the next call, either path, is signed right the first time.
          server.arrivals.length = 0;
          await call(service, "direct", client, server.url);
          await call(service, "send", client, server.url);
          expect(server.arrivals).toHaveLength(2);
        } finally {
          client.destroy();
          await server.close();
        }
      }
      const recovered = { attempts: 2, learntServerClock: true, retrySignedRight: true };
      expect(results).toEqual({ direct: recovered, send: recovered });
    },
  );
});

describe("Retry-After on a throttled or unavailable answer (a stand-in: the emulators never send it)", () => {
  /** The gap between the refused attempt and its retry, in ms, of each path. */
  async function retryGaps(service: Service, status: number, code: string, retryAfter: () => string) {
    const gaps: Record<string, number> = {};
    await Promise.all(
      (["direct", "send"] as const).map(async (path) => {
        const server = await startStandIn((request, index) =>
          index === 0
            ? refused(service, status, code, "slow down", { "retry-after": retryAfter() })
            : accepted(service, request),
        );
        const client = clientFor(service, server.url);
        try {
          await call(service, path, client, server.url);
          expect(server.arrivals).toHaveLength(2);
          gaps[path] = server.arrivals[1]!.at - server.arrivals[0]!.at;
        } finally {
          client.destroy();
          await server.close();
        }
      }),
    );
    return gaps;
  }

  it.concurrent("waits the seconds a 503's Retry-After asks (1 s) before the retry, as send does", async () => {
    const gaps = await retryGaps("s3", 503, "ServiceUnavailable", () => "1");
    // Without it, the client's own backoff after a 503 is below 50 ms.
    expect(gaps.direct).toBeGreaterThanOrEqual(990);
    expect(gaps.send).toBeGreaterThanOrEqual(990);
    expect(gaps.direct).toBeLessThan(1500);
  });

  it.concurrent("waits until the HTTP date a 429's Retry-After names, as send does", async () => {
    // Two to three seconds ahead (an HTTP date has whole seconds); a throttle's own backoff is below 1 s.
    const gaps = await retryGaps("sqs", 429, "RequestThrottled", () =>
      new Date(Math.floor((Date.now() + 3000) / 1000) * 1000).toUTCString(),
    );
    expect(gaps.direct).toBeGreaterThanOrEqual(1900);
    expect(gaps.send).toBeGreaterThanOrEqual(1900);
    expect(gaps.direct).toBeLessThan(4500);
  });

  it.concurrent("waits no more than the SDK's bound (5 s over its own backoff) for a Retry-After of an hour, as send does", async () => {
    const gaps = await retryGaps("s3", 503, "ServiceUnavailable", () => "3600");
    for (const gap of [gaps.direct, gaps.send]) {
      expect(gap).toBeGreaterThanOrEqual(4990);
      expect(gap).toBeLessThan(6000);
    }
  });
});
