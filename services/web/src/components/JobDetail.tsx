import { useEffect, useRef, useState } from "react";
import { type ApiClient, ApiError, describeError, formatBytes, type JobResult } from "../api.ts";
import type { JobEntry } from "../session.ts";
import { STATUS_TEXT } from "./JobsList.tsx";
import { ResultView } from "./ResultView.tsx";

const WAITING: Record<string, string> = {
  queued: "Uploaded. Waiting for a worker to pick the job up…",
  processing: "A worker is analysing the document…",
};

/** The selected job: its progress while it runs, then its result (or why it failed). */
export function JobDetail({
  job,
  client,
  cached,
  onResult,
  onUnauthorized,
  focusOnOpen = false,
}: {
  job: JobEntry;
  client: ApiClient;
  cached: JobResult | undefined;
  onResult: (result: JobResult) => void;
  onUnauthorized: (message: string) => void;
  /** Picked from the list: move focus here (and so into view on a phone, where it is below). */
  focusOnOpen?: boolean;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusOnOpen) heading.current?.focus();
  }, [focusOnOpen]);
  const [error, setError] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  const needsResult = job.status === "succeeded" && !cached;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs the fetch on "Try again"
  useEffect(() => {
    if (!needsResult) return;
    const abort = new AbortController();
    setError(undefined);
    client.getResult(job.jobId, abort.signal).then(onResult, (err: unknown) => {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 401) onUnauthorized(describeError(err));
      else setError(describeError(err));
    });
    return () => abort.abort();
  }, [needsResult, client, job.jobId, onResult, onUnauthorized, attempt]);

  return (
    <section className="card detail" aria-labelledby="detail-title">
      <h2 id="detail-title" className="detail-title" ref={heading} tabIndex={-1}>
        <span className="job-name">{job.filename}</span>
        <span className={`badge badge-${job.status}`}>{STATUS_TEXT[job.status]}</span>
      </h2>
      <p className="muted small">
        {formatBytes(job.size)} · job <code>{job.jobId}</code>
      </p>
      {(job.status === "queued" || job.status === "processing") && (
        <p className="waiting" role="status">
          <span className="spinner" aria-hidden="true" />
          {WAITING[job.status]}
        </p>
      )}
      {job.status === "failed" && (
        <p role="alert" className="error">
          The job failed{job.error ? `: ${job.error.message}` : "."}
        </p>
      )}
      {job.status === "succeeded" && cached && <ResultView result={cached} />}
      {job.status === "succeeded" && !cached && !error && <p role="status">Loading the result…</p>}
      {error && (
        <div role="alert" className="error">
          <p>{error}</p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      )}
    </section>
  );
}
