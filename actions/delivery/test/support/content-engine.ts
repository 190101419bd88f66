// Runs the content-engine CLI (actions/delivery/src/cli.ts) as a user would, with moto's credentials.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { MOTO_CREDENTIALS } from "../../../../test/support/moto.ts";
import { repositoryRoot } from "./run-action.ts";

export const cliPath = join(repositoryRoot, "actions", "delivery", "src", "cli.ts");

export function contentEngine(args: string[], cwd: string) {
  return spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    },
  });
}
