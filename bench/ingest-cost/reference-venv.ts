// The FastAPI + boto3 reference's Python environment (bench/reference/), which this bench installs
// itself into .tools/ingest-reference-venv when missing (the pip_tool pattern of scripts/setup-tools.sh).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../scripts/tools.ts";

const TOOLS = join(repoRoot, ".tools");
const VENV = join(TOOLS, "ingest-reference-venv");
const REQUIREMENTS = join(repoRoot, "bench", "reference", "requirements.txt");

/** `name==version` pins of the reference's requirements.txt (extras dropped). */
function pinnedRequirements(): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const line of readFileSync(REQUIREMENTS, "utf8").split("\n")) {
    const m = /^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)/.exec(line.trim());
    if (m) pins[m[1]!] = m[2]!;
  }
  return pins;
}

function installedVersions(python: string, names: string[]): Record<string, string> {
  if (!existsSync(python)) return {};
  const code = `import importlib.metadata as m, json, sys\nout = {}\nfor n in sys.argv[1:]:\n  try: out[n] = m.version(n)\n  except Exception: pass\nprint(json.dumps(out))`;
  try {
    return JSON.parse(execFileSync(python, ["-c", code, ...names], { encoding: "utf8" })) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}

/** The venv's python, installing the pinned requirements into .tools/ingest-reference-venv first if needed. */
export function ensureReferenceVenv(): string {
  const python = join(VENV, "bin", "python");
  const pins = pinnedRequirements();
  const have = installedVersions(python, Object.keys(pins));
  if (Object.entries(pins).every(([name, version]) => have[name] === version)) return python;
  const log = join(TOOLS, "logs", "ingest-reference.log");
  mkdirSync(join(TOOLS, "logs"), { recursive: true });
  process.stdout.write(`(installing the FastAPI reference into ${VENV}, log ${log}) `);
  try {
    execFileSync("python3", ["-m", "venv", VENV], { stdio: "ignore" });
    const out = execFileSync(
      join(VENV, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    writeFileSync(log, out);
  } catch (error) {
    const err = error as { stderr?: string; message: string };
    writeFileSync(log, err.stderr ?? err.message);
    throw new Error(`could not install the FastAPI reference (see ${log}): ${err.message}`);
  }
  return python;
}
