import { HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

const READY_TIMEOUT_MS = 2000;

export interface Readiness {
  ok: boolean;
  body: {
    status: "ready" | "unavailable";
    checks: { bucket: string; queue: string };
    error?: { code: string; message: string };
  };
}

/** The bucket and the queue `/ready` probes. */
export interface ReadinessTargets {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  queueUrl: string;
}

/**
 * Whether the bucket and the queue answer. `/ready` needs no auth, so a failure is named by the
 * dependency and an error code (`NoSuchBucket`, `ECONNREFUSED`, `TimeoutError`), never by a
 * message: those carry addresses, hostnames and ports.
 */
export async function checkReadiness(deps: ReadinessTargets): Promise<Readiness> {
  const deadline = () => ({ abortSignal: AbortSignal.timeout(READY_TIMEOUT_MS) });
  const [bucket, queue] = await Promise.all([
    probe(() => deps.s3.send(new HeadBucketCommand({ Bucket: deps.bucket }), deadline())),
    probe(() =>
      deps.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: deps.queueUrl, AttributeNames: ["QueueArn"] }),
        deadline(),
      ),
    ),
  ]);
  const failed = [bucket === "ok" ? "" : "bucket", queue === "ok" ? "" : "queue"].filter(Boolean);
  if (failed.length === 0) return { ok: true, body: { status: "ready", checks: { bucket, queue } } };
  return {
    ok: false,
    body: {
      status: "unavailable",
      checks: { bucket, queue },
      error: {
        code: "dependency_unavailable",
        message: `the ${failed.join(" and ")} ${failed.length > 1 ? "do" : "does"} not answer`,
      },
    },
  };
}

const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

async function probe(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (error) {
    return `error: ${errorCode(error)}`;
  }
}

/** A code that says what went wrong and nothing about where: the system code, else the error name. */
function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  for (const candidate of [e.code, e.cause?.code, e.name]) {
    if (typeof candidate === "string" && SAFE_CODE.test(candidate) && candidate !== "Error") return candidate;
  }
  return "unreachable";
}
