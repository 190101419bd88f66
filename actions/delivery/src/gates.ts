// The gates every deploy passes before it changes anything, in this order: the freeze window (a
// break-glass reason overrides it), then the signature of what it would run (and, in the account
// that owns the repository, the deployed-… tag that keeps it). deploy-ecs, deploy-lambda and
// deploy-helm each call deployGated once.
import type { Environment } from "@content-engine/environments";
import type { AwsOptions } from "./aws.ts";
import { freezeGated } from "./freeze.ts";
import type { Outcome } from "./outcome.ts";
import { registryAccess } from "./registry.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Artifacts, artifactGated } from "./signing.ts";
import { type Clock, systemClock } from "./wait.ts";

export interface DeployGate {
  operation: string;
  target: string;
  env: Environment;
  /** What the deploy would run: verified against the environment's signing key. */
  artifacts: Artifacts;
  breakGlass?: string;
  clock?: Clock;
  aws?: Partial<AwsOptions>;
  /** Registry endpoint override for reading signatures (see registry.ts). */
  registryEndpoint?: string;
  reporter?: Reporter;
}

export function deployGated(gate: DeployGate, deploy: () => Promise<Outcome>): Promise<Outcome> {
  const { operation, target, env } = gate;
  const reporter = gate.reporter ?? consoleReporter;
  const now = new Date((gate.clock ?? systemClock).now());
  return freezeGated({ operation, target, env, now, breakGlass: gate.breakGlass, reporter }, () =>
    artifactGated(
      {
        operation,
        target,
        env,
        artifacts: gate.artifacts,
        access: () => registryAccess(env, { ...gate, reporter }),
        reporter,
      },
      deploy,
    ),
  );
}
