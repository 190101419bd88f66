// A local stand-in for the GitHub REST API (the one boundary faked), over real HTTP on loopback so the
// library and a bundled action in a child process both reach it as they reach api.github.com. It keeps
// a small repository: commits (each a snapshot of the files), branches, deployments with statuses, pull
// requests and labels, and records every call. Only the routes promote and rollback use are served.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_TOKEN = "ghs_test";
export const FAKE_REPOSITORY = "acme/content-engine";

export interface FakeCommit {
  sha: string;
  parent: string | undefined;
  message: string;
  date: string;
  /** Paths this commit changed. */
  touched: string[];
  /** Every file as it is after the commit. */
  files: Map<string, string>;
}

export interface FakeDeployment {
  id: number;
  sha: string;
  environment: string;
  created_at: string;
  /** Statuses, oldest first (the API answers newest first). */
  statuses: string[];
}

export interface FakePull {
  number: number;
  html_url: string;
  head: string;
  base: string;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
}

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (chunk: Buffer) => {
      data += chunk.toString();
    });
    req.on("end", () => resolve(data));
  });

const blobSha = (text: string) => createHash("sha1").update(`blob ${text.length}\0${text}`).digest("hex");

export class GitHubFake {
  readonly calls: string[] = [];
  readonly commits = new Map<string, FakeCommit>();
  /** Branch name → commit sha. */
  readonly branches = new Map<string, string>();
  readonly deployments: FakeDeployment[] = [];
  readonly pulls: FakePull[] = [];
  url = "";
  private server: Server | undefined;
  private clock = Date.parse("2026-11-01T09:00:00Z");
  private nextId = 1000;

  /** Commits `files` on `branch` (default main) and returns the commit sha. */
  commit(files: Record<string, string>, message = "change", branch = "main"): string {
    const parent = this.branches.get(branch);
    const snapshot = new Map(parent ? this.commits.get(parent)!.files : []);
    const touched = Object.keys(files).filter((path) => snapshot.get(path) !== files[path]);
    for (const [path, text] of Object.entries(files)) snapshot.set(path, text);
    this.clock += 3_600_000;
    const sha = createHash("sha1")
      .update(`${parent ?? ""}${message}${this.clock}`)
      .digest("hex");
    this.commits.set(sha, {
      sha,
      parent,
      message,
      date: new Date(this.clock).toISOString(),
      touched,
      files: snapshot,
    });
    this.branches.set(branch, sha);
    return sha;
  }

  /** Records a deployment of `sha` to `environment` whose statuses end with the last one given. */
  deploy(environment: string, sha: string, ...statuses: string[]): FakeDeployment {
    this.clock += 60_000;
    const deployment = {
      id: this.nextId++,
      sha,
      environment,
      created_at: new Date(this.clock).toISOString(),
      statuses,
    };
    this.deployments.push(deployment);
    return deployment;
  }

  /** The file's text at the head of a branch. */
  fileOn(branch: string, path: string): string | undefined {
    const sha = this.branches.get(branch);
    return sha ? this.commits.get(sha)?.files.get(path) : undefined;
  }

  /** Commits reachable from `sha` by parents, newest first. */
  private log(sha: string | undefined): FakeCommit[] {
    const out: FakeCommit[] = [];
    for (let at = sha ? this.commits.get(sha) : undefined; at; at = this.commits.get(at.parent ?? ""))
      out.push(at);
    return out;
  }

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const text = await read(req);
      const body = text ? JSON.parse(text) : undefined;
      const url = new URL(req.url ?? "/", "http://fake");
      const path = decodeURIComponent(url.pathname);
      this.calls.push(`${req.method} ${decodeURIComponent(`${url.pathname}${url.search}`)}`);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (![`Bearer ${FAKE_TOKEN}`, `token ${FAKE_TOKEN}`].includes(req.headers.authorization ?? ""))
        return json(401, { message: "Bad credentials" });
      const prefix = `/repos/${FAKE_REPOSITORY}`;
      if (!path.startsWith(prefix)) return json(404, { message: "Not Found" });
      const route = `${req.method} ${path.slice(prefix.length)}`;
      const q = (name: string) => url.searchParams.get(name) ?? undefined;

      if (route === "GET /commits") {
        const from = this.branches.get(q("sha") ?? "main") ?? q("sha");
        const file = q("path");
        const perPage = Number(q("per_page") ?? 30);
        const page = Number(q("page") ?? 1);
        const list = this.log(from).filter((c) => !file || c.touched.includes(file));
        return json(
          200,
          list.slice((page - 1) * perPage, page * perPage).map((c) => ({
            sha: c.sha,
            commit: { message: c.message, committer: { date: c.date } },
          })),
        );
      }
      const match1 = route.match(/^GET \/contents\/(.+)$/);
      if (match1) {
        const match = match1;
        const ref = q("ref") ?? "main";
        const sha = this.branches.get(ref) ?? ref;
        const content = this.commits.get(sha)?.files.get(match[1]!);
        if (content === undefined) return json(404, { message: "Not Found" });
        return json(200, {
          type: "file",
          path: match[1],
          sha: blobSha(content),
          encoding: "base64",
          content: Buffer.from(content).toString("base64"),
        });
      }
      const match2 = route.match(/^PUT \/contents\/(.+)$/);
      if (match2) {
        const match = match2;
        const branch = body.branch as string;
        const existing = this.fileOn(branch, match[1]!);
        if (existing !== undefined && body.sha !== blobSha(existing))
          return json(409, { message: `${match[1]} does not match ${body.sha}` });
        const sha = this.commit(
          { [match[1]!]: Buffer.from(body.content, "base64").toString("utf8") },
          body.message,
          branch,
        );
        return json(200, { commit: { sha } });
      }
      if (route === "GET /deployments") {
        const list = this.deployments
          .filter((d) => !q("environment") || d.environment === q("environment"))
          .reverse()
          .slice(0, Number(q("per_page") ?? 30));
        return json(
          200,
          list.map((d) => ({ id: d.id, sha: d.sha, environment: d.environment, created_at: d.created_at })),
        );
      }
      const match3 = route.match(/^GET \/deployments\/(\d+)\/statuses$/);
      if (match3) {
        const match = match3;
        const deployment = this.deployments.find((d) => d.id === Number(match[1]));
        if (!deployment) return json(404, { message: "Not Found" });
        const statuses = [...deployment.statuses].reverse().slice(0, Number(q("per_page") ?? 30));
        return json(
          200,
          statuses.map((state) => ({ state })),
        );
      }
      const match4 = route.match(/^GET \/git\/ref\/heads\/(.+)$/);
      if (match4) {
        const match = match4;
        const sha = this.branches.get(match[1]!);
        return sha ? json(200, { object: { sha } }) : json(404, { message: "Not Found" });
      }
      if (route === "POST /git/refs") {
        const name = (body.ref as string).replace(/^refs\/heads\//, "");
        if (this.branches.has(name)) return json(422, { message: "Reference already exists" });
        this.branches.set(name, body.sha);
        return json(201, { ref: body.ref, object: { sha: body.sha } });
      }
      const match5 = route.match(/^PATCH \/git\/refs\/heads\/(.+)$/);
      if (match5) {
        const match = match5;
        if (!this.branches.has(match[1]!)) return json(422, { message: "Reference does not exist" });
        this.branches.set(match[1]!, body.sha);
        return json(200, { object: { sha: body.sha } });
      }
      if (route === "GET /pulls") {
        const head = q("head")?.split(":")[1];
        return json(
          200,
          this.pulls.filter(
            (p) =>
              p.state === (q("state") ?? "open") &&
              (!head || p.head === head) &&
              (!q("base") || p.base === q("base")),
          ),
        );
      }
      if (route === "POST /pulls") {
        const number = this.pulls.length + 1;
        const pull: FakePull = {
          number,
          html_url: `https://github.com/${FAKE_REPOSITORY}/pull/${number}`,
          head: body.head,
          base: body.base,
          title: body.title,
          body: body.body,
          state: "open",
          labels: [],
        };
        this.pulls.push(pull);
        return json(201, pull);
      }
      const match6 = route.match(/^PATCH \/pulls\/(\d+)$/);
      if (match6) {
        const match = match6;
        const pull = this.pulls.find((p) => p.number === Number(match[1]));
        if (!pull) return json(404, { message: "Not Found" });
        Object.assign(pull, { title: body.title ?? pull.title, body: body.body ?? pull.body });
        return json(200, pull);
      }
      const match7 = route.match(/^POST \/issues\/(\d+)\/labels$/);
      if (match7) {
        const match = match7;
        const pull = this.pulls.find((p) => p.number === Number(match[1]));
        if (!pull) return json(404, { message: "Not Found" });
        for (const name of body.labels as string[]) if (!pull.labels.includes(name)) pull.labels.push(name);
        return json(
          200,
          pull.labels.map((name) => ({ name })),
        );
      }
      return json(404, { message: `the fake serves no ${route}` });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
