// podman for tests, benches and the rehearsal: builds the product's real images from its real
// Dockerfiles on the offline stand-in base images, and runs them as ECS, EKS and the docs say they run.
// Every call goes through `podman()`, which names the repository's containers.conf (CONTAINERS_CONF):
// nothing under /etc is edited.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { type RunResult, run } from "./run.ts";

export const CONTAINERS_CONF = join(repoRoot, "scripts", "containers", "containers.conf");
export const containerEnv = { CONTAINERS_CONF };

/** The Dockerfiles that ship, by image role. */
export const DOCKERFILES = {
  api: join(repoRoot, "services", "api", "Dockerfile"),
  worker: join(repoRoot, "services", "worker", "Dockerfile"),
} as const;

/** `podman ARGS` with the repository's containers.conf; throws with podman's output when it fails. */
export function podman(args: readonly string[], options: { allowFailure?: boolean } = {}): RunResult {
  const result = run(toolPath("podman"), args, { env: containerEnv });
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(`podman ${args.join(" ")} exited ${result.code}:\n${result.output.trim().slice(-4000)}`);
  }
  return result;
}

/** Async `podman ARGS` (for builds: minutes, and the event loop must keep serving). */
export function podmanAsync(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath("podman"), args, {
      env: { ...process.env, ...containerEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { code: code ?? 1, stdout, stderr, output: `${stdout}\n${stderr}` };
      if (code === 0) resolve(result);
      else
        reject(new Error(`podman ${args.join(" ")} exited ${code}:\n${result.output.trim().slice(-4000)}`));
    });
  });
}

export interface BaseImages {
  /** Stands for node:24-slim. */
  BUILD_IMAGE: string;
  /** Stands for gcr.io/distroless/nodejs24-debian12:nonroot. */
  RUNTIME_IMAGE: string;
}

/** The stand-in base images, built (or found in the cache) by scripts/containers/base-images.sh. */
export function baseImages(): BaseImages {
  const result = run("bash", [join(repoRoot, "scripts", "containers", "base-images.sh")], {
    env: containerEnv,
  });
  if (result.code !== 0) throw new Error(`base-images.sh failed:\n${result.output.trim().slice(-4000)}`);
  const value = (name: string) => {
    const match = new RegExp(`^${name}=(\\S+)$`, "m").exec(result.stdout);
    if (!match) throw new Error(`base-images.sh printed no ${name}=:\n${result.output}`);
    return match[1]!;
  };
  return { BUILD_IMAGE: value("BUILD_IMAGE"), RUNTIME_IMAGE: value("RUNTIME_IMAGE") };
}

/**
 * `podman build` of a Dockerfile from the repository root, every stage, in Docker's image format (an
 * OCI image has no HEALTHCHECK). Returns the image id.
 */
export async function buildImage(
  dockerfile: string,
  tag: string,
  base: BaseImages = baseImages(),
  context = repoRoot,
  extraArgs: string[] = [],
): Promise<string> {
  await podmanAsync([
    "build",
    ...extraArgs,
    "--format",
    "docker",
    "--network",
    "host",
    "--build-arg",
    `BUILD_IMAGE=${base.BUILD_IMAGE}`,
    "--build-arg",
    `RUNTIME_IMAGE=${base.RUNTIME_IMAGE}`,
    "-f",
    dockerfile,
    "-t",
    tag,
    context,
  ]);
  return podman(["image", "inspect", "--format", "{{.Id}}", tag]).stdout.trim();
}

export interface RunContainerOptions {
  name?: string;
  env?: Record<string, string>;
  /** The image's CMD is replaced by this (the chart's and the task definition's `command`). */
  command?: string[];
  user?: string;
  /** A read-only root filesystem with a writable /tmp, as the task definition and the chart mount it. */
  readOnly?: boolean;
  capDrop?: boolean;
}

export interface Container {
  id: string;
  /** The container's state and output so far (for a failure message). */
  logs(): string;
  /** Runs the image's HEALTHCHECK now (`podman healthcheck run`): code 0 when it passes. */
  health(): RunResult;
  /** `podman exec` in the running container. */
  exec(args: string[]): RunResult;
  stop(): void;
}

/** Starts `image` detached on the host network (a task's awsvpc interface, a pod's IP: a port of its own). */
export function runContainer(image: string, options: RunContainerOptions = {}): Container {
  // No systemd here to run the HEALTHCHECK on a timer: `health()` runs it on demand.
  const args = ["run", "--detach", "--network", "host", "--health-interval", "disable"];
  if (options.name) args.push("--name", options.name, "--replace");
  if (options.readOnly) args.push("--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,size=256m");
  if (options.capDrop) args.push("--cap-drop", "ALL");
  if (options.user) args.push("--user", options.user);
  for (const [key, value] of Object.entries(options.env ?? {})) args.push("--env", `${key}=${value}`);
  args.push(image, ...(options.command ?? []));
  const id = podman(args).stdout.trim();
  return {
    id,
    logs: () =>
      `${podman(["inspect", "--format", "state {{.State.Status}}, exit code {{.State.ExitCode}} {{.State.Error}}", id], { allowFailure: true }).output.trim()}\n${podman(["logs", id], { allowFailure: true }).output.trim()}`,
    health: () => podman(["healthcheck", "run", id], { allowFailure: true }),
    exec: (execArgs) => podman(["exec", id, ...execArgs], { allowFailure: true }),
    stop: () => {
      podman(["rm", "--force", "--time", "5", id], { allowFailure: true });
    },
  };
}

/** `work`, whose failure message gets the container's state and output as they are when it fails. */
export async function withLogs<T>(container: Container, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${container.logs()}`);
  }
}
