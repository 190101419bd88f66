import { type DragEvent, type FormEvent, useEffect, useId, useRef, useState } from "react";
import { type ApiClient, ApiError, describeError, formatBytes, type JobAccepted, type Task } from "../api.ts";

const TASKS: { task: Task; label: string }[] = [
  { task: "summary", label: "Summary" },
  { task: "keywords", label: "Keywords" },
  { task: "sentiment", label: "Sentiment" },
];

const ACCEPT = ".txt,.md,.markdown,.html,.htm,.json,text/plain,text/markdown,text/html,application/json";

export interface UploadPanelProps {
  client: ApiClient;
  maxUploadBytes: number | undefined;
  onSubmitted: (accepted: JobAccepted, file: File) => void;
  /** A 401 means the key is no longer good: the console signs out with this message. */
  onUnauthorized: (message: string) => void;
}

/** "70 KiB — too large: the limit is 64 KiB", in bytes when rounding would make both sizes look equal. */
function tooLargeText(size: number, limit: number): string {
  const [a, b] =
    formatBytes(size) === formatBytes(limit)
      ? [`${size.toLocaleString("en-US")} bytes`, `${limit.toLocaleString("en-US")} bytes`]
      : [formatBytes(size), formatBytes(limit)];
  return `${a} — too large: the limit is ${b}. Choose a smaller file.`;
}

/** Choose (or drop) one file, see whether it fits the limit, send it. */
export function UploadPanel({ client, maxUploadBytes, onSubmitted, onUnauthorized }: UploadPanelProps) {
  const [file, setFile] = useState<File>();
  const [tasks, setTasks] = useState<Task[]>(TASKS.map((t) => t.task));
  const [dragging, setDragging] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const [retryIn, setRetryIn] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const limitId = useId();
  const tooLarge = file !== undefined && maxUploadBytes !== undefined && file.size > maxUploadBytes;

  useEffect(() => {
    if (retryIn <= 0) return;
    const t = setTimeout(() => setRetryIn((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [retryIn]);

  function choose(next: File | undefined) {
    setFile(next);
    setError(undefined);
    setRetryIn(0);
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files;
    if (dropped.length > 1) {
      setError("Drop one file at a time.");
      return;
    }
    choose(dropped[0]);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file || tooLarge || sending || retryIn > 0) return;
    if (tasks.length === 0) {
      setError("Pick at least one analysis.");
      return;
    }
    setSending(true);
    setError(undefined);
    try {
      const accepted = await client.submit(file, tasks);
      onSubmitted(accepted, file);
      setFile(undefined);
      if (inputRef.current) inputRef.current.value = "";
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        onUnauthorized(describeError(err));
        return;
      }
      setError(describeError(err, maxUploadBytes));
      if (err instanceof ApiError && (err.status === 503 || err.status === 429)) {
        setRetryIn(err.retryAfterSeconds ?? 5);
      }
    } finally {
      setSending(false);
    }
  }

  const limitText =
    maxUploadBytes === undefined
      ? "The server did not say its size limit."
      : `Up to ${formatBytes(maxUploadBytes)}`;

  return (
    <section className="card" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Analyse a document</h2>
      <form onSubmit={submit}>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is the pointer path; the file input inside is the keyboard one */}
        <div
          className={`dropzone${dragging ? " dragging" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="dropzone"
        >
          <input
            ref={inputRef}
            id={inputId}
            className="visually-hidden"
            type="file"
            accept={ACCEPT}
            aria-describedby={limitId}
            onChange={(e) => choose(e.target.files?.[0])}
          />
          <label htmlFor={inputId}>
            <span className="dropzone-title">Drop a file here, or choose one</span>
            <span id={limitId} className="muted">
              {limitText} · plain text, Markdown, HTML or JSON
            </span>
          </label>
        </div>

        {file && (
          <p className={tooLarge ? "error" : "file-info"} role={tooLarge ? "alert" : undefined}>
            <strong>{file.name}</strong> ·{" "}
            {tooLarge ? tooLargeText(file.size, maxUploadBytes!) : formatBytes(file.size)}
          </p>
        )}

        <fieldset className="tasks">
          <legend>Analyses</legend>
          {TASKS.map(({ task, label }) => (
            <label key={task} className="check">
              <input
                type="checkbox"
                checked={tasks.includes(task)}
                onChange={(e) =>
                  setTasks((now) =>
                    e.target.checked
                      ? TASKS.map((t) => t.task).filter((t) => t === task || now.includes(t))
                      : now.filter((t) => t !== task),
                  )
                }
              />
              {label}
            </label>
          ))}
        </fieldset>

        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={!file || tooLarge || sending || retryIn > 0}>
          {sending
            ? "Uploading…"
            : retryIn > 0
              ? `Retry in ${retryIn} s`
              : error && file
                ? "Retry upload"
                : "Upload"}
        </button>
      </form>
    </section>
  );
}
