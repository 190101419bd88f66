// `npm test`: tools, lint, type-check, then every test. Each step must pass; CI runs exactly this.
import { spawnSync } from "node:child_process";
import { delimiter, resolve } from "node:path";

// Tools installed by scripts/setup-tools.sh live in .tools/bin and win over anything on the machine.
process.env.PATH = `${resolve(".tools/bin")}${delimiter}${process.env.PATH ?? ""}`;

const steps: Array<[string, string[]]> = [
  ["bash", ["scripts/setup-tools.sh"]],
  ["bash", ["scripts/setup-chromium.sh"]],
  ["npx", ["biome", "check", "."]],
  ["npx", ["tsc", "-p", "tsconfig.json"]],
  ["npx", ["vitest", "run", ...process.argv.slice(2)]],
  // The chains whole: the real workflows under act against moto, a registry, a bare remote (README).
  ...(process.argv.length > 2 ? [] : ([["npm", ["run", "rehearse"]]] as Array<[string, string[]]>)),
];

for (const [cmd, args] of steps) {
  process.stdout.write(`\n▶ ${cmd} ${args.join(" ")}\n`);
  const result = spawnSync(cmd, args, { stdio: "inherit", env: process.env });
  if (result.status !== 0) {
    process.stderr.write(`✖ ${cmd} ${args.join(" ")} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}
