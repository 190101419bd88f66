// The images that ship, built from the real Dockerfiles with podman on the offline stand-in base
// images (scripts/containers/base-images.sh), and run as ECS and the chart run them: a read-only root
// filesystem, a non-root user, the task definition's /tmp, the chart's consumer command. A document
// goes through the API container and reaches `succeeded` through the consumer of the same image.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "@content-engine/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/tools.ts";
import { bearer, serviceEnv, submitText, waitFor } from "../../services/local/test/support.ts";
import {
  type BaseImages,
  baseImages,
  buildImage,
  type Container,
  DOCKERFILES,
  podman,
  runContainer,
  withLogs,
} from "../support/containers.ts";
import { chartEntryPoints, cmdOf, missingSiblings, siblingLoads } from "../support/image-layout.ts";
import { freePort } from "../support/moto.ts";
import { run } from "../support/run.ts";

// --- What each image holds, and what each entry point loads from beside itself (no engine needed).
describe("every entry point finds the files it loads from beside itself", () => {
  // The bundles, built into a temporary folder as the Dockerfiles' build stage builds them.
  const out = mkdtempSync(join(tmpdir(), "image-layout-"));
  const builds = {
    "/src/services/api/dist": join(out, "api"),
    "/src/services/worker/dist": join(out, "worker"),
  };
  beforeAll(() => {
    for (const w of ["api", "worker"]) {
      execFileSync(process.execPath, ["build.ts", join(out, w)], {
        cwd: join(repoRoot, "services", w),
        stdio: "pipe",
      });
    }
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const api = () => readFileSync(DOCKERFILES.api, "utf8");
  const worker = () => readFileSync(DOCKERFILES.worker, "utf8");

  it("the API image: its CMD and the chart's consumer command", () => {
    const entries = [...cmdOf(api()), ...chartEntryPoints()];
    expect(entries).toEqual(["/app/main.mjs", "/app/consumer.mjs"]);
    expect(missingSiblings(api(), entries, builds)).toEqual([]);
  });

  it("the worker image: its CMD", () => {
    expect(missingSiblings(worker(), cmdOf(worker()), builds)).toEqual([]);
  });

  it("the consumer's processor thread is what it loads (the check sees the bundle's worker URL)", () => {
    expect(siblingLoads(readFileSync(join(out, "worker", "consumer.mjs"), "utf8"))).toEqual([
      "processor-thread.mjs",
    ]);
  });

  it("fails, naming the file, when a Dockerfile drops processor-thread.mjs", () => {
    const dropped = api().replace(/^COPY .*processor-thread\.mjs.*$/m, "");
    expect(missingSiblings(dropped, ["/app/consumer.mjs"], builds)).toEqual([
      "/app/consumer.mjs: /app/processor-thread.mjs is not in the image",
    ]);
  });
});

// --- Built and run with podman.

const TENANT = "acme"; // serviceEnv names this tenant
const KEY = `img_${randomBytes(12).toString("base64url")}`;

describe("the images, built from the real Dockerfiles and run", () => {
  let base: BaseImages;
  let stack: LocalStack;
  const images = { api: "localhost/content-engine-api:test", worker: "localhost/content-engine-worker:test" };
  const running: Container[] = [];

  beforeAll(async () => {
    base = baseImages();
    await buildImage(DOCKERFILES.api, images.api, base);
    await buildImage(DOCKERFILES.worker, images.worker, base);
    stack = await startLocalStack({ port: 0, worker: false, logLevel: "warn", apiKeys: `${KEY}:${TENANT}` });
  }, 1_200_000);

  afterAll(async () => {
    for (const c of running) c.stop();
    await stack?.stop();
  });

  /** The environment terraform gives the task (serviceEnv: the services' contract), on the local emulator. */
  const env = (extra: Record<string, string> = {}) => {
    const { PATH: _path, ...contract } = serviceEnv({ ...stack, key: KEY }, extra);
    return contract as Record<string, string>;
  };

  async function start(image: string, options: { command?: string[]; env: Record<string, string> }) {
    const c = runContainer(image, { ...options, readOnly: true, capDrop: true });
    running.push(c);
    return c;
  }

  async function serving(port: number, c: Container) {
    await withLogs(
      c,
      waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok,
        90_000,
        `the container's /health on ${port}`,
      ),
    );
  }

  const status = async (apiUrl: string, id: string) =>
    ((await (await fetch(`${apiUrl}/v1/jobs/${id}`, { headers: bearer(KEY) })).json()) as { status: string })
      .status;

  it("the runtime images have no shell", () => {
    for (const image of [images.api, images.worker]) {
      const id = podman(["create", image]).stdout.trim();
      try {
        const files = run("bash", ["-c", `podman export ${id} | tar -t`], {
          env: { CONTAINERS_CONF: join(repoRoot, "scripts/containers/containers.conf") },
        }).stdout.split("\n");
        expect(files.filter((f) => /(^|\/)(sh|bash|dash|busybox)$/.test(f))).toEqual([]);
        expect(files).toContain("nodejs/bin/node");
      } finally {
        podman(["rm", id]);
      }
      const shell = podman(["run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "true"], {
        allowFailure: true,
      });
      expect(shell.code).not.toBe(0);
    }
  });

  it("runs as the non-root uid 10001", () => {
    for (const image of [images.api, images.worker]) {
      expect(podman(["image", "inspect", "--format", "{{.Config.User}}", image]).stdout.trim()).toBe(
        "10001:10001",
      );
      const uid = podman([
        "run",
        "--rm",
        "--entrypoint",
        "/nodejs/bin/node",
        image,
        "-p",
        "process.getuid()",
      ]);
      expect(uid.stdout.trim()).toBe("10001");
    }
  });

  it("the API serves uploads with a read-only root filesystem, its HEALTHCHECK passes, and the same image run as the chart's consumer takes them to succeeded", async () => {
    const port = await freePort();
    const api = await start(images.api, { env: env({ PORT: String(port) }) });
    await serving(port, api);
    const apiHealth = api.health();
    expect(apiHealth.code, `${apiHealth.output}\n${api.logs()}`).toBe(0);
    // The root filesystem is read-only; /tmp (the task definition's volume) is not.
    expect(api.exec(["/nodejs/bin/node", "-e", "require('fs').writeFileSync('/app/x', '')"]).code).not.toBe(
      0,
    );
    expect(api.exec(["/nodejs/bin/node", "-e", "require('fs').writeFileSync('/tmp/x', '')"]).code).toBe(0);
    const apiUrl = `http://127.0.0.1:${port}`;
    const docs = await fetch(`${apiUrl}/docs`);
    expect(docs.status).toBe(200);
    const response = await submitText(
      apiUrl,
      KEY,
      "Containers ship software. The image that ships must run.",
      {
        query: "?filename=ship.txt",
      },
    );
    expect(response.status, await response.clone().text()).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };
    expect(await status(apiUrl, jobId)).toBe("queued");

    const metricsPort = await freePort();
    const consumer = await start(images.api, {
      command: chartEntryPoints(),
      env: env({ WORKER_METRICS_PORT: String(metricsPort) }),
    });
    const final = await withLogs(
      consumer,
      waitFor(
        async () => {
          const s = await status(apiUrl, jobId);
          return s === "queued" ? undefined : s;
        },
        60_000,
        `job ${jobId} to finish`,
      ),
    );
    expect(final, consumer.logs()).toBe("succeeded");
    const result = await fetch(`${apiUrl}/v1/jobs/${jobId}/result`, { headers: bearer(KEY) });
    expect(((await result.json()) as { summary: unknown[] }).summary.length).toBeGreaterThan(0);
    api.stop();
    consumer.stop();
  }, 180_000);

  it("the worker image's consumer takes a document to succeeded, and its HEALTHCHECK passes", async () => {
    const metricsPort = await freePort();
    const consumer = await start(images.worker, { env: env({ WORKER_METRICS_PORT: String(metricsPort) }) });
    // Only this consumer runs now: the job below can reach `succeeded` through it alone.
    await serving(metricsPort, consumer);
    const response = await submitText(stack.apiUrl, KEY, "A second role, a second image. It must also run.", {
      query: "?filename=two.txt",
    });
    const { jobId } = (await response.json()) as { jobId: string };
    const final = await withLogs(
      consumer,
      waitFor(
        async () => {
          const s = await status(stack.apiUrl, jobId);
          return s === "queued" ? undefined : s;
        },
        60_000,
        `job ${jobId} to finish`,
      ),
    );
    expect(final, consumer.logs()).toBe("succeeded");
    const health = consumer.health();
    expect(health.code, `${health.output}\n${consumer.logs()}`).toBe(0);
  }, 180_000);

  it("the worker Dockerfile's build stage has what its build imports (scripts/bundle.ts)", () => {
    // The build itself above is the proof; this pins the reason, so a trimmed COPY list is caught here too.
    for (const file of Object.values(DOCKERFILES)) {
      expect(readFileSync(file, "utf8")).toMatch(/^COPY scripts\/bundle\.ts scripts\/$/m);
    }
    expect(existsSync(join(repoRoot, "scripts/bundle.ts"))).toBe(true);
  });
});
