// The images and the compose stack, checked statically (no Docker engine on these machines).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { API_NODE_OPTIONS } from "@content-engine/api";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/tools.ts";
import { API_HEALTH_CHECK } from "../rehearsal/world.ts";

const dockerfiles = {
  api: join(repoRoot, "services", "api", "Dockerfile"),
  worker: join(repoRoot, "services", "worker", "Dockerfile"),
};

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(file: string): Array<{ op: string; args: string }> {
  return readFileSync(file, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** The instructions of the last stage: what ships. */
function finalStage(file: string) {
  const all = instructions(file);
  const lastFrom = all.map((i) => i.op).lastIndexOf("FROM");
  return all.slice(lastFrom);
}

describe.each(Object.entries(dockerfiles))("the %s Dockerfile", (name, file) => {
  it("builds in one stage and ships another", () => {
    const froms = instructions(file).filter((i) => i.op === "FROM");
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms[0]?.args).toMatch(/ AS build$/);
  });

  it("takes its base images as BUILD_IMAGE / RUNTIME_IMAGE, defaulting to the official Node 24 images pinned by real digests", () => {
    const all = instructions(file);
    const args = Object.fromEntries(
      all.filter((i) => i.op === "ARG").map((i) => i.args.split("=") as [string, string]),
    );
    expect(args.BUILD_IMAGE).toBe(
      "node:24-slim@sha256:cd84903a12dbd26b46f1f3b8144a2568c41c5d37ddd0c7a80a34c7a19786b35f",
    );
    expect(args.RUNTIME_IMAGE).toBe(
      "gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a",
    );
    const arg = (name: string) => `\${${name}}`; // Dockerfile ARG syntax
    expect(all.filter((i) => i.op === "FROM").map((i) => i.args)).toEqual([
      `${arg("BUILD_IMAGE")} AS build`,
      `${arg("RUNTIME_IMAGE")} AS runtime`,
    ]);
  });

  it("names no placeholder digest (a run of one hex digit, or 0123…/abcd… sequences)", () => {
    const text = readFileSync(file, "utf8");
    for (const [, digest] of text.matchAll(/sha256:([0-9a-f]{64})/g)) {
      expect(digest).not.toMatch(/(.)\1{7}|0123456789|abcdef|a.b.c.d.e.f|1.3.5.7.9/);
    }
  });

  it("runs as the non-root UID 10001", () => {
    const users = finalStage(file).filter((i) => i.op === "USER");
    expect(users.map((u) => u.args)).toEqual(["10001:10001"]);
  });

  it("copies only the built bundle into the final image", () => {
    const copies = finalStage(file).filter((i) => i.op === "COPY");
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy.args).toMatch(/--from=build .*\/dist\//);
  });

  it("checks its own health over HTTP", () => {
    const check = finalStage(file).find((i) => i.op === "HEALTHCHECK");
    expect(check?.args).toContain("/health");
    expect(check?.args).toContain(
      name === "api" ? "process.env.PORT || 8000" : "process.env.WORKER_METRICS_PORT || 9100",
    );
  });
});

describe("the build stages", () => {
  // npm ci fails when a workspace the lock file links to is missing from the build context.
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { resolved?: string; link?: boolean }>;
  };
  const workspaceRoots = [
    ...new Set(
      Object.values(lock.packages)
        .filter((p) => p.link && p.resolved)
        .map((p) => p.resolved as string),
    ),
  ].sort();

  it.each(Object.entries(dockerfiles))(
    "the %s build copies the manifest of every npm workspace npm ci needs, before its sources",
    (_name, file) => {
      const all = instructions(file).filter((i) => i.op === "COPY" || i.op === "RUN");
      const copied = all
        .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      expect(workspaceRoots.length).toBeGreaterThan(0);
      const manifests = workspaceRoots.map((root) => `${root}/package.json`);
      for (const manifest of ["package.json", "package-lock.json", ...manifests])
        expect(copied, `COPY ${manifest}`).toContain(manifest);
      // npm ci runs on the manifests alone, so a source change reuses the dependency layer.
      const ci = all.findIndex((i) => i.op === "RUN" && i.args.includes("npm ci"));
      const sources = all.findIndex((i) => i.op === "COPY" && i.args.startsWith("services/ "));
      expect(ci).toBeGreaterThan(0);
      expect(sources).toBeGreaterThan(ci);
      // A COPY of a path that is not there fails the build.
      for (const source of copied) expect(existsSync(join(repoRoot, source)), `${source} exists`).toBe(true);
    },
  );
});

describe("the API image", () => {
  it("starts the API server and carries the consumer bundle the chart's worker runs", () => {
    const stage = finalStage(dockerfiles.api);
    expect(stage.find((i) => i.op === "CMD")?.args).toBe('["/app/main.mjs"]');
    expect(stage.some((i) => i.op === "COPY" && i.args.includes("consumer.mjs /app/consumer.mjs"))).toBe(
      true,
    );
    expect(stage.find((i) => i.op === "EXPOSE")?.args).toBe("8000");
  });
});

describe("the API image's Node options", () => {
  it("runs with the V8 flags the memory benchmark measured (API_NODE_OPTIONS)", () => {
    const env = finalStage(dockerfiles.api)
      .filter((i) => i.op === "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toContain(`NODE_OPTIONS=${API_NODE_OPTIONS}`);
  });
});

describe("docker-compose.yml", () => {
  // biome-ignore lint/suspicious/noExplicitAny: compose files are arbitrary YAML
  const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true }) as any;
  const contractVariables = new Set([
    "PORT",
    "WORKER_METRICS_PORT",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "CONTENT_ENGINE_BUCKET",
    "CONTENT_ENGINE_QUEUE_URL",
    "CONTENT_ENGINE_API_KEYS",
    "CONTENT_ENGINE_MAX_UPLOAD_BYTES",
    "CONTENT_ENGINE_PROCESSOR",
    "CONTENT_ENGINE_BEDROCK_MODEL_ID",
    "CONTENT_ENGINE_WORKER_CONCURRENCY",
    "LOG_LEVEL",
  ]);

  it("builds the API and the worker from their Dockerfiles", () => {
    expect(compose.services.api.build).toEqual({ context: ".", dockerfile: "services/api/Dockerfile" });
    expect(compose.services.worker.build).toEqual({ context: ".", dockerfile: "services/worker/Dockerfile" });
  });

  it("points both at the emulator and uses only the service contract's variables", () => {
    for (const name of ["api", "worker"]) {
      const env = compose.services[name].environment as Record<string, string>;
      expect(env.AWS_ENDPOINT_URL).toBe("http://aws:5000");
      expect(Object.keys(env).filter((k) => !contractVariables.has(k))).toEqual([]);
    }
  });

  it("starts the services only after the bucket and queues exist", () => {
    for (const name of ["api", "worker"]) {
      expect(compose.services[name].depends_on).toEqual({
        "aws-init": { condition: "service_completed_successfully" },
      });
    }
    const init = String(compose.services["aws-init"].command);
    expect(init).toContain("create-bucket --bucket content-engine-local");
    expect(init).toContain("maxReceiveCount");
  });

  it("runs the services hardened: read-only, no capabilities, UID 10001, published on loopback only", () => {
    for (const name of ["api", "worker"]) {
      const service = compose.services[name];
      expect(service).toMatchObject({ read_only: true, cap_drop: ["ALL"], user: "10001:10001" });
      for (const port of service.ports as string[]) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it("gives the API a key the API accepts (16+ characters, key:tenant)", () => {
    expect(compose.services.api.environment.CONTENT_ENGINE_API_KEYS).toMatch(/^[^:,\s]{16,}:[A-Za-z0-9_-]+$/);
  });

  it("pins every image it pulls to a version", () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, { image?: string }>)) {
      if (service.image) expect(service.image, name).toMatch(/:v?[0-9]+\.[0-9]+\.[0-9]+$/);
    }
  });
});

describe(".github/dependabot.yml", () => {
  // biome-ignore lint/suspicious/noExplicitAny: dependabot's schema is not typed here
  const config = parse(readFileSync(join(repoRoot, ".github", "dependabot.yml"), "utf8")) as any;
  it("keeps both Dockerfiles' base image pins fresh, in one grouped update", () => {
    const docker = config.updates.find(
      (u: { "package-ecosystem": string }) => u["package-ecosystem"] === "docker",
    );
    expect(docker.directories.sort()).toEqual(
      Object.values(dockerfiles)
        .map((f) => `/${relative(repoRoot, dirname(f))}`)
        .sort(),
    );
    expect(docker.groups).toBeDefined();
  });
});

describe("the API's health check", () => {
  it("is one command in the Dockerfile's HEALTHCHECK, terraform's task definition (ECS ignores HEALTHCHECK) and the rehearsal's", () => {
    const text = readFileSync(dockerfiles.api, "utf8").replace(/\\\n/g, " ");
    const command = JSON.parse(/^HEALTHCHECK .*?CMD (\[.*\])\s*$/m.exec(text)![1]!) as string[];
    expect(command[0]).toBe("/nodejs/bin/node");
    expect(API_HEALTH_CHECK.command).toEqual(["CMD", ...command]);
    const terraform = readFileSync(join(repoRoot, "terraform/modules/ecs-service/main.tf"), "utf8");
    const healthCheck = /healthCheck = \{\s*command = \[([^\]]*)\]/.exec(terraform);
    expect(JSON.parse(`[${healthCheck![1]!.trim().replace(/,\s*$/, "")}]`)).toEqual(["CMD", ...command]);
  });
});
