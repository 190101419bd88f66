// The typed result every operation returns, and the plan every dry-run returns.

/** `started`: the change was accepted and is under way, not waited for (deploy-ecs with wait: false). */
export type OutcomeStatus = "succeeded" | "unchanged" | "started" | "rolled_back" | "failed" | "timed_out";

export interface Revisions {
  /** What served before the operation (task definition ARN, Lambda version, Helm revision, digest). */
  previous?: string;
  /** What the operation tried to put in service. */
  attempted?: string;
  /** What serves now, after success or rollback. */
  current?: string;
}

export interface Timings {
  startedAt: string;
  finishedAt: string;
  totalMs: number;
  /** Time spent waiting on AWS/Kubernetes (polls and sleeps); the rest is our own time. */
  waitingMs: number;
}

export interface Outcome {
  operation: string;
  target: string;
  status: OutcomeStatus;
  reason: string;
  revisions: Revisions;
  timings: Timings;
  /** Lines for the job summary: stopped-task reasons, service events, helm status… */
  diagnostics: string[];
  /** Extra values actions expose as outputs (image, digest, version, pull request URL…). */
  outputs: Record<string, string>;
}

export interface PlannedChange {
  field: string;
  from: string | undefined;
  to: string | undefined;
}

export interface Plan {
  operation: string;
  target: string;
  /** True when applying would change nothing. */
  noop: boolean;
  changes: PlannedChange[];
  /** The mutating calls the operation would make, in order (none are made by a plan). */
  steps: string[];
  /** Rendered material worth showing (rendered manifests, argv, PR body). */
  details: string[];
}

/** Measures an operation and builds its outcome; `wait` wraps every wait so timings split own/waiting time. */
export class Stopwatch {
  readonly startedAt = new Date();
  waitingMs = 0;

  async wait<T>(promise: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await promise;
    } finally {
      this.waitingMs += performance.now() - start;
    }
  }

  timings(): Timings {
    const finishedAt = new Date();
    return {
      startedAt: this.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      totalMs: Math.round(finishedAt.getTime() - this.startedAt.getTime()),
      waitingMs: Math.round(this.waitingMs),
    };
  }
}

export function finish(
  watch: Stopwatch,
  fields: Omit<Outcome, "timings" | "diagnostics" | "outputs" | "revisions"> &
    Partial<Pick<Outcome, "diagnostics" | "outputs" | "revisions">>,
): Outcome {
  return {
    revisions: {},
    diagnostics: [],
    outputs: {},
    ...fields,
    timings: watch.timings(),
  };
}

export function isSuccess(outcome: Outcome): boolean {
  return outcome.status === "succeeded" || outcome.status === "unchanged" || outcome.status === "started";
}
