// A fake GitHub REST API on 127.0.0.1, served GHES-style under /api/v3 (GITHUB_API_URL), backed by the
// rehearsal's bare git repository: refs, contents and commits are real git objects. It records pull
// requests; merging one applies its branch to main with a merge commit, as the merge button does.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "./git.ts";

export interface PullRequest {
  number: number;
  title: string;
  head: string;
  base: string;
  body: string;
  state: "open" | "closed";
  merged: boolean;
  labels: string[];
}

export interface Issue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: "open" | "closed";
  comments: string[];
}

export interface FakeGitHub {
  /** GHES-style API URL, e.g. http://127.0.0.1:PORT/api/v3 */
  apiUrl: string;
  pulls: PullRequest[];
  /** Issues (numbered apart from pull requests here; GitHub shares one sequence). */
  issues: Issue[];
  /** Every request, "METHOD /path" (without /api/v3). */
  requests: string[];
  /** Merges the pull request into its base; returns main before and after. */
  merge(number: number): { before: string; after: string };
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const tryGit = (cwd: string, args: string[]) => {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startFakeGitHub(bare: string, repository: string): Promise<FakeGitHub> {
  const pulls: PullRequest[] = [];
  const issues: Issue[] = [];
  const requests: string[] = [];
  const htmlBase = `https://github.example.invalid/${repository}`;

  const resolveRef = (ref: string) => tryGit(bare, ["rev-parse", "--verify", "-q", `${ref}^{commit}`]);

  function commitFile(branch: string, path: string, content: Buffer, message: string, expectedBlob: string) {
    const parent = resolveRef(`refs/heads/${branch}`);
    if (!parent) throw new HttpError(404, `branch ${branch} not found`);
    const current = tryGit(bare, ["rev-parse", `${parent}:${path}`]);
    if (current !== expectedBlob) throw new HttpError(409, `${path} does not match ${expectedBlob}`);
    const index = join(mkdtempSync(join(tmpdir(), "fake-gh-")), "index");
    const env = { GIT_INDEX_FILE: index };
    const blob = spawnSync("git", ["hash-object", "-w", "--stdin"], {
      cwd: bare,
      input: content,
      encoding: "utf8",
    }).stdout.trim();
    git(bare, ["read-tree", parent], env);
    git(bare, ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], env);
    const tree = git(bare, ["write-tree"], env);
    rmSync(index, { force: true });
    const commit = git(bare, ["commit-tree", tree, "-p", parent, "-m", message]);
    git(bare, ["update-ref", `refs/heads/${branch}`, commit, parent]);
    return { commit, blob };
  }

  async function route(method: string, url: URL, request: IncomingMessage): Promise<unknown> {
    const prefix = `/repos/${repository}`;
    // Octokit encodes a ref's slashes (heads%2Fpromote%2Fstaging); GitHub accepts both forms.
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v3/, "");
    if (!path.startsWith(`${prefix}/`)) throw new HttpError(404, "Not Found");
    const rest = path.slice(prefix.length);
    const q = url.searchParams;
    let m: RegExpMatchArray | null = null;
    const match = (pattern: RegExp) => {
      m = rest.match(pattern);
      return m !== null;
    };
    if (method === "GET" && rest === "/commits") {
      const perPage = Number(q.get("per_page") ?? "30");
      const args = [
        "log",
        `--max-count=${perPage}`,
        `--skip=${(Number(q.get("page") ?? "1") - 1) * perPage}`,
        "--format=%H%x09%cI%x09%s",
        q.get("sha") ?? "main",
      ];
      if (q.get("path")) args.push("--", q.get("path")!);
      return (tryGit(bare, args) ?? "")
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [sha, date, message] = line.split("\t");
          return { sha, commit: { message, committer: { date }, author: { date } } };
        });
    }
    if (method === "GET" && match(/^\/compare\/([^.]+)\.\.\.(.+)$/)) {
      const [a, b] = [resolveRef(m![1]!), resolveRef(m![2]!)];
      if (!a || !b) throw new HttpError(404, "Not Found");
      const log = tryGit(bare, ["log", "--reverse", "--format=%H%x09%s", `${a}..${b}`]) ?? "";
      return {
        html_url: `${htmlBase}/compare/${m![1]}...${m![2]}`,
        commits: log
          .split("\n")
          .filter(Boolean)
          .map((line) => ({ sha: line.split("\t")[0], commit: { message: line.split("\t")[1] } })),
      };
    }
    if (method === "GET" && match(/^\/git\/ref\/heads\/(.+)$/)) {
      const sha = resolveRef(`refs/heads/${m![1]}`);
      if (!sha) throw new HttpError(404, "Not Found");
      return { ref: `refs/heads/${m![1]}`, object: { sha, type: "commit" } };
    }
    if (method === "POST" && rest === "/git/refs") {
      const body = await readBody(request);
      if (resolveRef(String(body.ref))) throw new HttpError(422, "Reference already exists");
      git(bare, ["update-ref", String(body.ref), String(body.sha)]);
      return { ref: body.ref, object: { sha: body.sha } };
    }
    if (method === "PATCH" && match(/^\/git\/refs\/heads\/(.+)$/)) {
      const body = await readBody(request);
      git(bare, ["update-ref", `refs/heads/${m![1]}`, String(body.sha)]);
      return { ref: `refs/heads/${m![1]}`, object: { sha: body.sha } };
    }
    if (match(/^\/contents\/(.+)$/)) {
      const file = decodeURIComponent(m![1]!);
      if (method === "GET") {
        const ref = q.get("ref") ?? "main";
        const sha = tryGit(bare, ["rev-parse", `${resolveRef(ref) ?? ref}:${file}`]);
        if (!sha) throw new HttpError(404, "Not Found");
        const content = spawnSync("git", ["cat-file", "blob", sha], { cwd: bare }).stdout as Buffer;
        return { type: "file", path: file, sha, encoding: "base64", content: content.toString("base64") };
      }
      if (method === "PUT") {
        const body = await readBody(request);
        const content = Buffer.from(String(body.content), "base64");
        const done = commitFile(
          String(body.branch ?? "main"),
          file,
          content,
          String(body.message),
          String(body.sha),
        );
        return { content: { path: file, sha: done.blob }, commit: { sha: done.commit } };
      }
    }
    if (rest === "/pulls" && method === "GET") {
      const head = q.get("head")?.split(":").pop();
      return pulls
        .filter((p) => (q.get("state") ?? "open") === p.state && (!head || p.head === head))
        .filter((p) => !q.get("base") || p.base === q.get("base"))
        .map((p) => ({ number: p.number, html_url: `${htmlBase}/pull/${p.number}` }));
    }
    if (rest === "/pulls" && method === "POST") {
      const body = await readBody(request);
      const pull: PullRequest = {
        number: pulls.length + 1,
        title: String(body.title),
        head: String(body.head),
        base: String(body.base),
        body: String(body.body ?? ""),
        state: "open",
        merged: false,
        labels: [],
      };
      if (!resolveRef(`refs/heads/${pull.head}`))
        throw new HttpError(422, `head ${pull.head} does not exist`);
      pulls.push(pull);
      return { number: pull.number, html_url: `${htmlBase}/pull/${pull.number}` };
    }
    if (method === "PATCH" && match(/^\/pulls\/(\d+)$/)) {
      const pull = pulls[Number(m![1]) - 1];
      if (!pull) throw new HttpError(404, "Not Found");
      const body = await readBody(request);
      if (body.title) pull.title = String(body.title);
      if (body.body) pull.body = String(body.body);
      return { number: pull.number, html_url: `${htmlBase}/pull/${pull.number}` };
    }
    if (rest === "/issues" && method === "GET") {
      const labels = q.get("labels")?.split(",").filter(Boolean) ?? [];
      return issues
        .filter((i) => (q.get("state") ?? "open") === "all" || i.state === (q.get("state") ?? "open"))
        .filter((i) => labels.every((label) => i.labels.includes(label)))
        .map((i) => ({ number: i.number, title: i.title, state: i.state, body: i.body }));
    }
    if (rest === "/issues" && method === "POST") {
      const body = await readBody(request);
      const issue: Issue = {
        number: issues.length + 1,
        title: String(body.title),
        body: String(body.body ?? ""),
        labels: ((body.labels as string[] | undefined) ?? []).map(String),
        state: "open",
        comments: [],
      };
      issues.push(issue);
      return { number: issue.number, html_url: `${htmlBase}/issues/${issue.number}` };
    }
    // Labels of a pull request (GitHub treats a pull request as an issue here).
    if (method === "POST" && match(/^\/issues\/(\d+)\/labels$/)) {
      const pull = pulls[Number(m![1]) - 1];
      if (!pull) throw new HttpError(404, "Not Found");
      const body = await readBody(request);
      for (const label of (body.labels as string[] | undefined) ?? []) {
        if (!pull.labels.includes(String(label))) pull.labels.push(String(label));
      }
      return pull.labels.map((name) => ({ name }));
    }
    if (match(/^\/issues\/(\d+)(\/comments)?$/)) {
      const issue = issues[Number(m![1]) - 1];
      if (!issue) throw new HttpError(404, "Not Found");
      const body = await readBody(request);
      if (method === "POST" && m![2]) {
        issue.comments.push(String(body.body));
        return { id: issue.comments.length };
      }
      if (method === "PATCH" && !m![2]) {
        if (body.body !== undefined) issue.body = String(body.body);
        if (body.state === "open" || body.state === "closed") issue.state = body.state;
        return { number: issue.number, state: issue.state };
      }
    }
    // GitHub records a deployment for every job that runs in an environment; act records none.
    if (rest === "/deployments" && method === "GET") return [];
    throw new HttpError(404, `fake GitHub has no route ${method} ${rest}`);
  }

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    requests.push(`${request.method} ${url.pathname.replace(/^\/api\/v3/, "")}${url.search}`);
    const auth = request.headers.authorization ?? "";
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (!/^(token|Bearer) \S+/.test(auth)) return answer(401, { message: "Requires authentication" });
    route(request.method ?? "GET", url, request).then(
      (body) => answer(request.method === "POST" ? 201 : 200, body),
      (error: unknown) =>
        answer(error instanceof HttpError ? error.status : 500, { message: (error as Error).message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    apiUrl: `http://127.0.0.1:${port}/api/v3`,
    pulls,
    issues,
    requests,
    merge(number) {
      const pull = pulls.find((p) => p.number === number && p.state === "open");
      if (!pull) throw new Error(`pull request #${number} is not open`);
      const before = resolveRef(`refs/heads/${pull.base}`)!;
      const work = mkdtempSync(join(tmpdir(), "fake-gh-merge-"));
      git(work, ["clone", "-q", `file://${bare}`, "."]);
      git(work, ["checkout", "-q", pull.base]);
      git(work, [
        "merge",
        "-q",
        "--no-ff",
        `origin/${pull.head}`,
        "-m",
        `Merge pull request #${number} from ${pull.head}`,
      ]);
      git(work, ["push", "-q", "origin", `HEAD:${pull.base}`]);
      rmSync(work, { recursive: true, force: true });
      pull.state = "closed";
      pull.merged = true;
      return { before, after: resolveRef(`refs/heads/${pull.base}`)! };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
