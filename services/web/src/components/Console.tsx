import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiClient, ApiError, describeError, type Fetch, type JobAccepted, type JobResult } from "../api.ts";
import { DEFAULT_POLL_POLICY, isFinished, type PollPolicy, watchJob } from "../poll.ts";
import type { JobEntry, SessionStore } from "../session.ts";
import { JobDetail } from "./JobDetail.tsx";
import { JobsList } from "./JobsList.tsx";
import { UploadPanel } from "./UploadPanel.tsx";

export interface ConsoleProps {
  apiKey: string;
  store: SessionStore;
  maxUploadBytes: number | undefined;
  onSignOut: (message?: string) => void;
  fetch?: Fetch;
  pollPolicy?: PollPolicy;
}

/** Signed in: upload on the left (top on a phone), the session's jobs and the selected result. */
export function Console({ apiKey, store, maxUploadBytes, onSignOut, fetch, pollPolicy }: ConsoleProps) {
  const client = useMemo(() => new ApiClient(apiKey, fetch ? { fetch } : {}), [apiKey, fetch]);
  const [jobs, setJobs] = useState<JobEntry[]>(() => store.jobs());
  const [selected, setSelected] = useState<string | undefined>(() => store.jobs()[0]?.jobId);
  const [results, setResults] = useState<Record<string, JobResult>>({});
  const [pollError, setPollError] = useState<string>();
  const [picked, setPicked] = useState(false);
  const watchers = useRef(new Map<string, () => void>());

  useEffect(() => store.setJobs(jobs), [jobs, store]);

  const update = useCallback((jobId: string, patch: Partial<JobEntry>) => {
    setJobs((now) => now.map((j) => (j.jobId === jobId ? { ...j, ...patch } : j)));
  }, []);

  // One poller per unfinished job; each stops by itself when its job finishes (or on 401/404). A job's
  // entry stays in `watchers` after its poller stopped: the finished status reaches `jobs` only on
  // React's next commit, and an effect still pending from an earlier render (job "processing") would
  // otherwise find no entry and start a second poller for a job that already finished.
  useEffect(() => {
    for (const job of jobs) {
      if (isFinished(job.status) || watchers.current.has(job.jobId)) continue;
      const stop = watchJob(
        client,
        job.jobId,
        {
          onUpdate(view) {
            setPollError(undefined);
            update(view.jobId, { status: view.status, error: view.error });
          },
          onError(error, final) {
            const message = describeError(error);
            if (final && error instanceof ApiError && error.status === 401) onSignOut(message);
            else setPollError(final ? `${job.filename}: ${message}` : `${message} Still checking…`);
          },
        },
        pollPolicy ?? DEFAULT_POLL_POLICY,
      );
      watchers.current.set(job.jobId, stop);
    }
  }, [jobs, client, update, onSignOut, pollPolicy]);

  useEffect(() => {
    const running = watchers.current;
    return () => {
      for (const stop of running.values()) stop();
      running.clear();
    };
  }, []);

  const onSubmitted = useCallback((accepted: JobAccepted, file: File) => {
    const entry: JobEntry = {
      jobId: accepted.jobId,
      filename: file.name,
      size: file.size,
      submittedAt: new Date().toISOString(),
      status: accepted.status,
    };
    setJobs((now) => [entry, ...now]);
    setSelected(accepted.jobId);
    setPicked(false);
  }, []);

  const onResult = useCallback((result: JobResult) => {
    setResults((now) => ({ ...now, [result.jobId]: result }));
  }, []);

  const current = jobs.find((j) => j.jobId === selected);

  return (
    <>
      <header className="topbar">
        <span className="brand">content-engine</span>
        <button type="button" className="link" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <main className="console">
        <div className="column">
          <UploadPanel
            client={client}
            maxUploadBytes={maxUploadBytes}
            onSubmitted={onSubmitted}
            onUnauthorized={onSignOut}
          />
          {pollError && (
            <p role="alert" className="error">
              {pollError}
            </p>
          )}
          <JobsList
            jobs={jobs}
            selected={selected}
            onSelect={(jobId) => {
              setSelected(jobId);
              setPicked(true);
            }}
          />
        </div>
        <div className="column wide">
          {current ? (
            <JobDetail
              key={current.jobId}
              job={current}
              client={client}
              cached={results[current.jobId]}
              onResult={onResult}
              onUnauthorized={onSignOut}
              focusOnOpen={picked}
            />
          ) : (
            <section className="card muted empty">
              <h2>Results</h2>
              <p>The result of the job you pick shows here.</p>
            </section>
          )}
        </div>
      </main>
    </>
  );
}
