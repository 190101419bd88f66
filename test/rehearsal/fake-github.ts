// A fake GitHub REST API on 127.0.0.1, served GHES-style under /api/v3 (GITHUB_API_URL), backed by the
// rehearsal's bare git repository: refs, contents and commits are real git objects. It records pull
// requests; merging one applies its branch to main with a merge commit, as the merge button does. It
// records deployments and their statuses (the deploy actions write them, rollback reads them), with
// GitHub's auto_inactive rule, so a test can assert what a deploy recorded.
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

export interface DeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment_url: string;
  log_url: string;
  created_at: string;
}

export interface Deployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  description: string;
  payload: Record<string, unknown>;
  transient_environment: boolean;
  production_environment: boolean;
  /** What the request asked for (GitHub answers with neither). */
  auto_merge: boolean | undefined;
  required_contexts: unknown;
  created_at: string;
  /** Oldest first (the API answers newest first). */
  statuses: DeploymentStatus[];
}

export interface FakeGitHub {
  /** GHES-style API URL, e.g. http://127.0.0.1:PORT/api/v3 */
  apiUrl: string;
  pulls: PullRequest[];
  /** Issues (numbered apart from pull requests here; GitHub shares one sequence). */
  issues: Issue[];
  /** Every request, "METHOD /path" (without /api/v3). */
  requests: string[];
  /** Deployments in creation order (the API lists them newest first). */
  deployments: Deployment[];
  /**
   * Answers requests whose "METHOD /path" (without /api/v3/repos/owner/name) starts with the key with
   * this HTTP status instead, e.g. { "POST /deployments": 403 } for a workflow without deployments: write.
   */
  failures: Map<string, number>;
  /** Like `failures`, but each answers one request only (an outage a retry gets past). */
  failuresOnce: Map<string, number>;
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
  const deployments: Deployment[] = [];
  const failures = new Map<string, number>();
  const failuresOnce = new Map<string, number>();
  let nextDeploymentId = 1;
  let nextStatusId = 1;
  // Strictly increasing timestamps, so "newest first" never depends on the clock's resolution.
  let lastTime = 0;
  const timestamp = () => {
    lastTime = Math.max(Date.now(), lastTime + 1000);
    return new Date(lastTime).toISOString().replace(/\.\d{3}Z$/, "Z");
  };
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
    // Deployments. GitHub also records one for every job that runs in an environment; act records none.
    const apiBase = `${url.origin}/api/v3${prefix}`;
    const deploymentView = (d: Deployment) => {
      const { statuses: _statuses, auto_merge: _a, required_contexts: _r, ...rest } = d;
      return {
        ...rest,
        url: `${apiBase}/deployments/${d.id}`,
        statuses_url: `${apiBase}/deployments/${d.id}/statuses`,
        updated_at: d.statuses.at(-1)?.created_at ?? d.created_at,
      };
    };
    const statusView = (d: Deployment, s: DeploymentStatus) => ({
      ...s,
      deployment_url: `${apiBase}/deployments/${d.id}`,
      target_url: s.log_url,
    });
    if (rest === "/deployments" && method === "GET") {
      const perPage = Number(q.get("per_page") ?? "30");
      const page = Number(q.get("page") ?? "1");
      return [...deployments]
        .reverse()
        .filter((d) => !q.get("environment") || d.environment === q.get("environment"))
        .filter((d) => !q.get("sha") || d.sha === q.get("sha"))
        .filter((d) => !q.get("ref") || d.ref === q.get("ref"))
        .filter((d) => !q.get("task") || d.task === q.get("task"))
        .slice((page - 1) * perPage, page * perPage)
        .map(deploymentView);
    }
    if (rest === "/deployments" && method === "POST") {
      const body = await readBody(request);
      const ref = String(body.ref ?? "");
      const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : resolveRef(ref);
      if (!sha) throw new HttpError(422, `No ref found for: ${ref}`);
      const environment = String(body.environment ?? "production");
      const deployment: Deployment = {
        id: nextDeploymentId++,
        sha,
        ref,
        task: String(body.task ?? "deploy"),
        environment,
        description: String(body.description ?? ""),
        payload:
          typeof body.payload === "string"
            ? (JSON.parse(body.payload || "{}") as Record<string, unknown>)
            : ((body.payload as Record<string, unknown> | undefined) ?? {}),
        transient_environment: body.transient_environment === true,
        production_environment:
          body.production_environment === undefined
            ? environment === "production"
            : body.production_environment === true,
        auto_merge: body.auto_merge as boolean | undefined,
        required_contexts: body.required_contexts,
        created_at: timestamp(),
        statuses: [],
      };
      deployments.push(deployment);
      return deploymentView(deployment);
    }
    if (match(/^\/deployments\/(\d+)(\/statuses)?$/)) {
      const deployment = deployments.find((d) => d.id === Number(m![1]));
      if (!deployment) throw new HttpError(404, "Not Found");
      if (method === "GET" && !m![2]) return deploymentView(deployment);
      if (method === "GET") {
        const perPage = Number(q.get("per_page") ?? "30");
        const page = Number(q.get("page") ?? "1");
        return [...deployment.statuses]
          .reverse()
          .slice((page - 1) * perPage, page * perPage)
          .map((s) => statusView(deployment, s));
      }
      if (method === "POST" && m![2]) {
        const body = await readBody(request);
        const state = String(body.state);
        const states = ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"];
        if (!states.includes(state)) throw new HttpError(422, `state ${state} is not one of ${states}`);
        const status: DeploymentStatus = {
          id: nextStatusId++,
          state,
          description: String(body.description ?? ""),
          environment_url: String(body.environment_url ?? ""),
          log_url: String(body.log_url ?? body.target_url ?? ""),
          created_at: timestamp(),
        };
        deployment.statuses.push(status);
        // GitHub's auto_inactive: a success inactivates the earlier successful deployments of the same
        // environment, unless the environment is transient or production.
        if (
          state === "success" &&
          body.auto_inactive !== false &&
          !deployment.transient_environment &&
          !deployment.production_environment
        ) {
          for (const earlier of deployments) {
            if (earlier.id >= deployment.id || earlier.environment !== deployment.environment) continue;
            if (earlier.statuses.at(-1)?.state !== "success") continue;
            earlier.statuses.push({
              id: nextStatusId++,
              state: "inactive",
              description: "",
              environment_url: earlier.statuses.at(-1)?.environment_url ?? "",
              log_url: earlier.statuses.at(-1)?.log_url ?? "",
              created_at: timestamp(),
            });
          }
        }
        return statusView(deployment, status);
      }
    }
    throw new HttpError(404, `fake GitHub has no route ${method} ${rest}`);
  }

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
    requests.push(`${request.method} ${url.pathname.replace(/^\/api\/v3/, "")}${url.search}`);
    const auth = request.headers.authorization ?? "";
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (!/^(token|Bearer) \S+/.test(auth)) return answer(401, { message: "Requires authentication" });
    const said = `${request.method} ${decodeURIComponent(url.pathname)
      .replace(/^\/api\/v3/, "")
      .replace(`/repos/${repository}`, "")}`;
    for (const [prefix, status] of [...failures, ...failuresOnce]) {
      if (!said.startsWith(prefix)) continue;
      if (!failures.has(prefix)) failuresOnce.delete(prefix);
      return answer(status, {
        message: status === 403 ? "Resource not accessible by integration" : `fake failure ${status}`,
      });
    }
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
    deployments,
    failures,
    failuresOnce,
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
