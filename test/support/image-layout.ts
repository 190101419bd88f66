// What an image holds and what its entry points load, read from a Dockerfile's runtime stage and this
// checkout's build output, without a container engine: the cheap half of test/infra/images.test.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/tools.ts";

interface Copy {
  from: string;
  to: string;
}

/** The runtime stage's `COPY --from=build SRC DEST` lines of a Dockerfile's text. */
export function runtimeCopies(dockerfile: string): Copy[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n");
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l.trim()));
  return lines
    .slice(lastFrom)
    .map((l) => /^COPY\s+--from=build\s+(?:--\S+\s+)*(\S+)\s+(\S+)\s*$/i.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ from: m[1]!, to: m[2]! }));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/**
 * The image's /app layout: image path -> the local file it comes from. `builds` maps a build-stage
 * folder (`/src/services/worker/dist`) to where this checkout's build of it lies (tests build into
 * temporary folders, never into the tree other tests read); a copy from an unmapped folder is
 * listed with no local file.
 */
export function imageLayout(
  dockerfile: string,
  builds: Record<string, string>,
): Map<string, string | undefined> {
  const layout = new Map<string, string | undefined>();
  const local = (from: string) => {
    for (const [prefix, dir] of Object.entries(builds)) {
      if (from === prefix || from.startsWith(`${prefix}/`)) return join(dir, from.slice(prefix.length));
    }
    return undefined;
  };
  for (const { from, to } of runtimeCopies(dockerfile)) {
    const source = local(from.replace(/\/$/, ""));
    if (from.endsWith("/")) {
      if (!source) layout.set(to, undefined);
      else for (const file of filesUnder(source)) layout.set(join(to, relative(source, file)), file);
    } else {
      layout.set(to.endsWith("/") ? join(to, from.split("/").pop()!) : to, source);
    }
  }
  return layout;
}

/** Files a bundle loads from beside itself: `new URL("./x.mjs", import.meta.url)` (worker threads, assets). */
export function siblingLoads(bundle: string): string[] {
  const loads = new Set<string>();
  for (const call of bundle.matchAll(/new URL\(([^;]*?),\s*import\.meta\.url\s*\)/gs)) {
    for (const literal of call[1]!.matchAll(/["'`]\.\/([\w.-]+)["'`]/g)) {
      if (!literal[1]!.endsWith(".ts")) loads.add(literal[1]!);
    }
  }
  return [...loads];
}

/** Entry points that cannot load a file next to them in the image, as `entry: missing` lines. */
export function missingSiblings(
  dockerfile: string,
  entryPoints: string[],
  builds: Record<string, string>,
): string[] {
  const layout = imageLayout(dockerfile, builds);
  const missing: string[] = [];
  for (const entry of entryPoints) {
    if (!layout.has(entry)) {
      missing.push(`${entry}: not in the image`);
      continue;
    }
    const local = layout.get(entry);
    if (!local)
      throw new Error(`${entry}: no local build of it was given (builds: ${Object.keys(builds).join(", ")})`);
    for (const sibling of siblingLoads(readFileSync(local, "utf8"))) {
      const path = join(entry, "..", sibling);
      if (!layout.has(path)) missing.push(`${entry}: ${path} is not in the image`);
    }
  }
  return missing;
}

export function cmdOf(dockerfile: string): string[] {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
  return cmd ? (JSON.parse(cmd[1]!) as string[]) : [];
}

/** What the chart runs from the API image: the worker Deployment's args. */
export function chartEntryPoints(): string[] {
  const text = readFileSync(join(repoRoot, "helm/content-engine/templates/worker-deployment.yaml"), "utf8");
  const args = /args:\s*(\[.*\])/.exec(text);
  return args ? (parse(args[1]!) as string[]) : [];
}
