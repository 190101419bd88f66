import { formatBytes } from "../api.ts";
import type { JobEntry } from "../session.ts";

export const STATUS_TEXT: Record<JobEntry["status"], string> = {
  queued: "Queued",
  processing: "Processing",
  succeeded: "Succeeded",
  failed: "Failed",
};

function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? ""
    : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** The jobs of this session, newest first; the status of each updates live. */
export function JobsList({
  jobs,
  selected,
  onSelect,
}: {
  jobs: readonly JobEntry[];
  selected: string | undefined;
  onSelect: (jobId: string) => void;
}) {
  return (
    <section className="card" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Your jobs</h2>
      {jobs.length === 0 ? (
        <p className="muted">No jobs yet. Upload a document to start one.</p>
      ) : (
        <ul className="jobs" aria-live="polite">
          {jobs.map((job) => (
            <li key={job.jobId}>
              <button
                type="button"
                className="job"
                aria-current={job.jobId === selected ? "true" : undefined}
                onClick={() => onSelect(job.jobId)}
              >
                <span className="job-name">{job.filename}</span>
                <span className={`badge badge-${job.status}`} data-testid="job-status">
                  {STATUS_TEXT[job.status]}
                </span>
                <span className="job-meta muted">
                  {formatBytes(job.size)} · {time(job.submittedAt)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
