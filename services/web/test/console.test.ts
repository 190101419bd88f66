// @vitest-environment jsdom
// The console as a person uses it: sign in, pick a file, watch the job, read the result, see errors.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { userEvent } from "@testing-library/user-event";
import { createElement } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../src/App.tsx";
import type { PollPolicy } from "../src/poll.ts";
import { accepted, apiError, fakeApi, GOOD_KEY, JOB_ID, jobView, json, RESULT } from "./fake-api.ts";

const FAST: PollPolicy = { initialMs: 5, factor: 2, maxMs: 40 };
const KIB = 1024;

beforeEach(() => window.sessionStorage.clear());
afterEach(() => cleanup());

function show(api: ReturnType<typeof fakeApi>, maxUploadBytes: number | undefined = 4 * KIB) {
  const user = userEvent.setup();
  const view = render(createElement(App, { config: { maxUploadBytes }, fetch: api.fetch, pollPolicy: FAST }));
  return { user, ...view };
}

async function signIn(user: ReturnType<typeof userEvent.setup>, key = GOOD_KEY) {
  await user.type(screen.getByLabelText("API key"), key);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

function textFile(name: string, bytes: number, type = "text/plain"): File {
  return new File(["a".repeat(bytes)], name, { type });
}

async function signedIn(api: ReturnType<typeof fakeApi>, maxUploadBytes?: number) {
  const shown = show(api, maxUploadBytes);
  await signIn(shown.user);
  await screen.findByRole("heading", { name: "Analyse a document" });
  return shown;
}

function drop(zone: HTMLElement, file: File) {
  fireEvent.drop(zone, { dataTransfer: { files: [file], types: ["Files"] } });
}

const uploadButton = () => screen.getByRole("button", { name: /upload|retry/i });

describe("sign-in", () => {
  it("refuses a wrong key in words and keeps nothing", async () => {
    const api = fakeApi();
    const { user } = show(api);
    await signIn(user, "not-the-right-key");
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      "The API key was not accepted. Check the key and sign in again.",
    );
    expect(screen.queryByRole("heading", { name: "Analyse a document" })).toBeNull();
    expect(window.sessionStorage.length).toBe(0);
  });

  it("keeps a good key in sessionStorage only, never in the address bar", async () => {
    const api = fakeApi();
    const { user } = show(api);
    await signIn(user);
    await screen.findByRole("heading", { name: "Analyse a document" });
    expect(window.sessionStorage.getItem("content-engine.apiKey")).toBe(GOOD_KEY);
    expect(window.localStorage.length).toBe(0);
    expect(window.location.href).not.toContain(GOOD_KEY);
    expect(document.cookie).toBe("");
    // The check sent the key as a bearer header and created nothing.
    expect(api.calls.map((c) => [c.method, c.authorization])).toEqual([["GET", `Bearer ${GOOD_KEY}`]]);
  });

  it("can be done with the keyboard alone", async () => {
    const { user } = show(fakeApi());
    await user.tab();
    expect(document.activeElement).toBe(screen.getByLabelText("API key"));
    await user.keyboard(`${GOOD_KEY}{Enter}`);
    expect(await screen.findByRole("heading", { name: "Analyse a document" })).toBeTruthy();
  });

  it("signing out forgets the key and the jobs", async () => {
    const { user } = await signedIn(fakeApi());
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(screen.getByLabelText("API key")).toBeTruthy();
    expect(window.sessionStorage.length).toBe(0);
  });
});

describe("upload", () => {
  it("shows the server's limit before anything is sent", async () => {
    await signedIn(fakeApi(), 25 * KIB * KIB);
    expect(screen.getByText(/Up to 25 MiB/)).toBeTruthy();
  });

  it("refuses a file over the limit without sending it", async () => {
    const api = fakeApi();
    const { user } = await signedIn(api, 4 * KIB);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("big.txt", 5 * KIB));
    expect(screen.getByRole("alert").textContent).toContain("too large: the limit is 4 KiB");
    expect((uploadButton() as HTMLButtonElement).disabled).toBe(true);
    await user.click(uploadButton());
    expect(api.calls.filter((c) => c.method === "POST")).toEqual([]);
  });

  it("names exact byte counts when a file is just over the limit", async () => {
    const { user } = await signedIn(fakeApi(), 4 * KIB);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("edge.txt", 4 * KIB + 1));
    expect(screen.getByRole("alert").textContent).toBe(
      "edge.txt · 4,097 bytes — too large: the limit is 4,096 bytes. Choose a smaller file.",
    );
  });

  it("accepts a dropped file", async () => {
    const api = fakeApi();
    const { user } = await signedIn(api);
    const file = textFile("dropped.md", 300, "text/markdown");
    const zone = screen.getByTestId("dropzone");
    drop(zone, file);
    expect(screen.getByText("dropped.md")).toBeTruthy();
    await user.click(uploadButton());
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    const post = api.calls.find((c) => c.method === "POST")!;
    expect(post.path).toBe("/v1/jobs");
    expect((post.body as FormData).get("file")).toHaveProperty("name", "dropped.md");
  });

  it("sends only the analyses that are ticked", async () => {
    const api = fakeApi();
    const { user } = await signedIn(api);
    await user.click(screen.getByRole("checkbox", { name: "Sentiment" }));
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    const post = api.calls.find((c) => c.method === "POST")!;
    expect((post.body as FormData).get("tasks")).toBe("summary,keywords");
  });

  it("explains an unsupported file type (415)", async () => {
    const api = fakeApi({
      submit: [apiError(415, "unsupported_media_type", "a file of type 'image/png' is not supported")],
    });
    const { user } = await signedIn(api);
    // The picker only offers text files; a dropped file can be anything.
    drop(screen.getByTestId("dropzone"), textFile("cat.png", 10, "image/png"));
    await user.click(uploadButton());
    expect((await screen.findByRole("alert")).textContent).toBe(
      "This file type is not supported. Upload plain text, Markdown, HTML or JSON.",
    );
  });

  it("explains a file the server finds too large (413)", async () => {
    const api = fakeApi({ submit: [apiError(413, "payload_too_large", "too large")] });
    const { user } = await signedIn(api, 2 * KIB);
    // The file fits the limit the page loaded with, but the server has the last word.
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", KIB));
    await user.click(uploadButton());
    expect((await screen.findByRole("alert")).textContent).toBe("The file is too large: the limit is 2 KiB.");
  });

  it("waits out a busy service (503 + Retry-After) and then lets the person retry", async () => {
    const api = fakeApi({
      submit: [
        apiError(503, "queue_unavailable", "the queue does not answer", { "retry-after": "1" }),
        json(202, accepted()),
      ],
    });
    const { user } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The service is busy right now. Try again in 1 second.",
    );
    expect(uploadButton().textContent).toBe("Retry in 1 s");
    expect((uploadButton() as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(uploadButton().textContent).toBe("Retry upload"), { timeout: 3000 });
    await user.click(uploadButton());
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    expect(api.calls.filter((c) => c.method === "POST")).toHaveLength(2);
  });

  it("signs out with a message when the key stops working (401 on upload)", async () => {
    const api = fakeApi({ submit: [apiError(401, "unauthorized", "unknown key")] });
    const { user } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The API key was not accepted. Check the key and sign in again.",
    );
    expect(screen.getByLabelText("API key")).toBeTruthy();
    expect(window.sessionStorage.getItem("content-engine.apiKey")).toBeNull();
  });
});

describe("jobs and results", () => {
  it("shows the status moving from queued to succeeded, then the result, and stops polling", async () => {
    const api = fakeApi({
      status: [
        json(200, jobView("queued")),
        json(200, jobView("processing")),
        json(200, jobView("processing")),
        json(200, jobView("succeeded")),
      ],
    });
    const { user } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    const jobs = screen.getByRole("heading", { name: "Your jobs" }).closest("section")!;
    expect(within(jobs).getByText("notes.txt")).toBeTruthy();
    expect(within(jobs).getByText("Queued")).toBeTruthy();
    await screen.findByText("Processing", { selector: "[data-testid=job-status]" });
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });

    // The result view: summary, keywords, sentiment, stats, raw JSON.
    expect(await screen.findByText("Solar power got cheaper again this year.")).toBeTruthy();
    expect(screen.getByText("Storage is the next bottleneck.")).toBeTruthy();
    const keywords = screen.getByRole("heading", { name: "Keywords" }).nextElementSibling!;
    expect([...keywords.querySelectorAll(".term")].map((e) => e.textContent)).toEqual(["solar", "storage"]);
    expect(screen.getByText("Positive")).toBeTruthy();
    expect(screen.getByText(/score \+0\.42/)).toBeTruthy();
    const stats = screen.getByRole("heading", { name: "Text statistics" }).nextElementSibling!;
    expect(stats.textContent).toBe("Characters1,234Words210Sentences12Reading time1 min 3 s");
    const raw = screen.getByText("Raw JSON").closest("details")!;
    expect(JSON.parse(raw.querySelector("pre")!.textContent!)).toEqual(RESULT);

    // Finished: no more status requests, however long we wait.
    const polls = api.calls.filter((c) => c.path === `/v1/jobs/${JOB_ID}`).length;
    expect(polls).toBe(4);
    await new Promise((r) => setTimeout(r, 200));
    expect(api.calls.filter((c) => c.path === `/v1/jobs/${JOB_ID}`)).toHaveLength(polls);
    expect(api.calls.filter((c) => c.path.endsWith("/result"))).toHaveLength(1);
  });

  it("says why a job failed", async () => {
    const api = fakeApi({
      status: [
        json(
          200,
          jobView("failed", { error: { code: "processing_failed", message: "the document is empty" } }),
        ),
      ],
    });
    const { user } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("empty.txt", 1));
    await user.click(uploadButton());
    expect((await screen.findByText(/The job failed/)).textContent).toBe(
      "The job failed: the document is empty",
    );
  });

  it("keeps polling through a busy API and says so", async () => {
    const api = fakeApi({
      status: [
        apiError(503, "unavailable", "busy", { "retry-after": "0" }),
        json(200, jobView("processing")),
        json(200, jobView("succeeded")),
      ],
    });
    const { user } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    expect((await screen.findByText(/Still checking/)).textContent).toBe(
      "The service is busy right now. Try again in a moment. Still checking…",
    );
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    expect(screen.queryByText(/Still checking/)).toBeNull();
  });

  it("moves focus to the result when a job is picked from the list", async () => {
    const { user } = await signedIn(fakeApi());
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    await screen.findByText("Solar power got cheaper again this year.");
    const heading = screen.getByRole("heading", { level: 2, name: /notes\.txt/ });
    expect(document.activeElement).not.toBe(heading);
    await user.click(screen.getByRole("button", { name: /notes\.txt/ }));
    expect(document.activeElement).toBe(heading);
  });

  it("keeps the session's jobs across a reload of the page", async () => {
    const api = fakeApi();
    const { user, unmount } = await signedIn(api);
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    await user.click(uploadButton());
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    unmount();
    show(api);
    // Signed in straight away, the job listed and its result shown again.
    expect(await screen.findByText("Solar power got cheaper again this year.")).toBeTruthy();
    expect(screen.getByText("Succeeded", { selector: "[data-testid=job-status]" })).toBeTruthy();
  });

  it("is usable with the keyboard: file, analyses and upload are reachable with Tab and Space/Enter", async () => {
    const { user } = await signedIn(fakeApi());
    const focused = () => {
      const el = document.activeElement as HTMLInputElement;
      return el.type === "file"
        ? "file"
        : el.type === "checkbox"
          ? el.closest("label")!.textContent
          : el.textContent;
    };
    const reached: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      await user.tab();
      reached.push(focused());
    }
    expect(reached).toEqual(["Sign out", "file", "Summary", "Keywords", "Sentiment"]);
    await user.keyboard(" ");
    expect(screen.getByRole("checkbox", { name: "Sentiment" })).toHaveProperty("checked", false);
    // The file dialog itself belongs to the browser; choosing a file puts it in the form.
    await user.upload(screen.getByLabelText(/drop a file here/i), textFile("notes.txt", 52));
    screen.getByRole("checkbox", { name: "Sentiment" }).focus();
    await user.tab();
    expect(document.activeElement).toBe(uploadButton());
    await user.keyboard("{Enter}");
    await screen.findByText("Succeeded", { selector: "[data-testid=job-status]" });
    // The job in the list is a button: Tab reaches it.
    const job = screen.getByRole("button", { name: /notes\.txt/ });
    expect(job.getAttribute("aria-current")).toBe("true");
  });
});
