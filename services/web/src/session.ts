// What the console keeps for one browser tab: the API key and the jobs submitted with it.
// sessionStorage only: gone when the tab closes, never written to a URL, a cookie or localStorage.
import type { JobStatusValue } from "./api.ts";

const KEY = "content-engine.apiKey";
const JOBS = "content-engine.jobs";

export interface JobEntry {
  jobId: string;
  filename: string;
  size: number;
  submittedAt: string;
  status: JobStatusValue;
  error?: { code: string; message: string } | undefined;
}

export interface SessionStore {
  key(): string | undefined;
  setKey(key: string): void;
  jobs(): JobEntry[];
  setJobs(jobs: readonly JobEntry[]): void;
  clear(): void;
}

/** A store over a Web Storage area (sessionStorage in the browser). */
export function createSessionStore(storage: Storage): SessionStore {
  return {
    key: () => storage.getItem(KEY) || undefined,
    setKey: (key) => storage.setItem(KEY, key),
    jobs() {
      try {
        const parsed = JSON.parse(storage.getItem(JOBS) ?? "[]") as unknown;
        return Array.isArray(parsed)
          ? (parsed as JobEntry[]).filter((j) => typeof j?.jobId === "string")
          : [];
      } catch {
        return [];
      }
    },
    setJobs: (jobs) => storage.setItem(JOBS, JSON.stringify(jobs)),
    clear() {
      storage.removeItem(KEY);
      storage.removeItem(JOBS);
    },
  };
}
