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

/** The image's /app layout: image path -> the file of this checkout's build it comes from. */
export function imageLayout(dockerfile: string): Map<string, string> {
  const layout = new Map<string, string>();
  for (const { from, to } of runtimeCopies(dockerfile)) {
    const local = join(repoRoot, from.replace(/^\/src\//, ""));
    if (from.endsWith("/")) {
      for (const file of filesUnder(local)) layout.set(join(to, relative(local, file)), file);
    } else {
      layout.set(to.endsWith("/") ? join(to, from.split("/").pop()!) : to, local);
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
export function missingSiblings(dockerfile: string, entryPoints: string[]): string[] {
  const layout = imageLayout(dockerfile);
  const missing: string[] = [];
  for (const entry of entryPoints) {
    const local = layout.get(entry);
    if (!local) {
      missing.push(`${entry}: not in the image`);
      continue;
    }
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
