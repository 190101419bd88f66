// The state of a helm release: its status and revision, and the recovery of a release a cancelled
// run left in pending-install/-upgrade/-rollback.
import { type CommandRunner, runChecked } from "./command.ts";

export interface ReleaseStatus {
  status: string;
  revision: number;
}

export async function releaseStatus(
  run: CommandRunner,
  helm: string,
  base: string[],
): Promise<ReleaseStatus | undefined> {
  const result = await run(helm, ["status", ...base, "--output", "json"]);
  if (result.code !== 0) {
    if (/not found/i.test(result.stderr)) return undefined;
    throw new Error(`helm status failed: ${result.stderr.trim()}`);
  }
  const parsed = JSON.parse(result.stdout) as { version: number; info: { status: string } };
  return { status: parsed.info.status, revision: parsed.version };
}

/**
 * A cancelled run can leave the release in pending-install/-upgrade/-rollback, which blocks every later
 * upgrade ("another operation is in progress"). Roll back to the last good revision, or uninstall a
 * release that never installed. Returns what it did, for the log.
 */
export async function recoverPendingRelease(
  run: CommandRunner,
  helm: string,
  release: string,
  namespace: string,
  kubeconfig?: string,
): Promise<string | undefined> {
  const base = [release, "--namespace", namespace, ...(kubeconfig ? ["--kubeconfig", kubeconfig] : [])];
  const current = await releaseStatus(run, helm, base);
  if (!current?.status.startsWith("pending-")) return undefined;
  const history = JSON.parse(
    (await runChecked(run, helm, ["history", ...base, "--output", "json"])).stdout,
  ) as {
    revision: number;
    status: string;
  }[];
  const good = history
    .filter((entry) => entry.status === "deployed" || entry.status === "superseded")
    .sort((a, b) => b.revision - a.revision)[0];
  if (current.status === "pending-install" || !good) {
    await runChecked(run, helm, ["uninstall", ...base, "--wait"]);
    return `release ${release} was stuck in ${current.status} at revision ${current.revision}: uninstalled it`;
  }
  await runChecked(run, helm, ["rollback", ...base, String(good.revision), "--wait"]);
  return `release ${release} was stuck in ${current.status} at revision ${current.revision}: rolled back to revision ${good.revision}`;
}
