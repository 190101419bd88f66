// The console in real headless Chromium against the running local stack (emulator + API + worker):
// sign in, upload, watch the job succeed, read the result; a wrong key and a too-large file.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type LocalStack, startLocalStack } from "@content-engine/local";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureConsoleBuilt, WEB_ROOT } from "./build-console.ts";

const CHROMIUM = "/usr/bin/chromium";
const KEY = "e2e-console-key-0123456789";
const LIMIT = 64 * 1024;
const ARTIFACTS = join(WEB_ROOT, "..", "..", ".artifacts");

const DOCUMENT = [
  "Solar panels on the school roof now cover most of the building's electricity during the day.",
  "The town council measured the savings over a full year and found the bills fell by a third.",
  "Teachers use the live output display in science lessons, and pupils track the numbers every week.",
  "Storage batteries are the next step, because the evening load is still drawn from the grid.",
  "The council plans to fund batteries for three more schools next spring.",
].join(" ");

let stack: LocalStack;
let context: BrowserContext;
let page: Page;
let profile: string;
/** Every URL the page asked for: all must be the API's own origin. */
const requested: string[] = [];
/** Script errors and console errors (a CSP violation shows up here), less Chromium's note on each 4xx. */
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run \`bash scripts/setup-chromium.sh\` (Debian package chromium)`,
    );
  }
  delete process.env.CONTENT_ENGINE_WEB_DIR; // the default: services/web/dist
  ensureConsoleBuilt();
  stack = await startLocalStack({
    port: 0,
    workerMetricsPort: 0,
    logLevel: "silent",
    apiKeys: `${KEY}:acme`,
    maxUploadBytes: LIMIT,
  });
  profile = mkdtempSync(join(tmpdir(), "ce-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1200, height: 860 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("request", (req) => requested.push(req.url()));
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      pageErrors.push(message.text());
    }
  });
  await page.goto(`${stack.apiUrl}/`);
});

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe("the web console in Chromium", () => {
  it("refuses a wrong key with a message", async () => {
    await page.getByLabel("API key").fill("this-is-not-a-valid-key-000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expectText(
      page.getByRole("alert"),
      "The API key was not accepted. Check the key and sign in again.",
    );
    expect(await page.getByRole("heading", { name: "Analyse a document" }).count()).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "web-console-wrong-key.png") });
  });

  it("signs in with a good key, kept in sessionStorage and out of the URL", async () => {
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Analyse a document" }).waitFor();
    expect(page.url()).toBe(`${stack.apiUrl}/`);
    expect(await page.evaluate(() => sessionStorage.getItem("content-engine.apiKey"))).toBe(KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    // The limit comes from the server (CONTENT_ENGINE_MAX_UPLOAD_BYTES), shown before any upload.
    await expectText(page.getByText(/^Up to /), "Up to 64 KiB · plain text, Markdown, HTML or JSON");
  });

  it("refuses a file over the server's limit without sending it", async () => {
    const posts = requested.filter((u) => u.endsWith("/v1/jobs")).length;
    await page.getByLabel(/drop a file here/i).setInputFiles({
      name: "big.txt",
      mimeType: "text/plain",
      buffer: Buffer.alloc(100 * 1024, "a"),
    });
    await expectText(
      page.getByRole("alert"),
      "big.txt · 100 KiB — too large: the limit is 64 KiB. Choose a smaller file.",
    );
    expect(await page.getByRole("button", { name: "Upload" }).isDisabled()).toBe(true);
    expect(requested.filter((u) => u.endsWith("/v1/jobs")).length).toBe(posts);
    await page.screenshot({ path: join(ARTIFACTS, "web-console-too-large.png") });
  });

  it("explains a file type the API does not take (415)", async () => {
    await page.getByLabel(/drop a file here/i).setInputFiles({
      name: "photo.png",
      mimeType: "image/png",
      buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    });
    await page.getByRole("button", { name: "Upload" }).click();
    await expectText(
      page.getByRole("alert"),
      "This file type is not supported. Upload plain text, Markdown, HTML or JSON.",
    );
  });

  it("uploads a text file, shows it reach succeeded and shows the summary", async () => {
    await page.getByLabel(/drop a file here/i).setInputFiles({
      name: "solar-school.txt",
      mimeType: "text/plain",
      buffer: Buffer.from(DOCUMENT),
    });
    await page.getByRole("button", { name: "Upload" }).click();
    const status = page.getByRole("button", { name: /solar-school\.txt/ }).getByTestId("job-status");
    await status.waitFor();
    await page.getByTestId("job-status").filter({ hasText: "Succeeded" }).waitFor({ timeout: 30_000 });
    expect(await status.textContent()).toBe("Succeeded");

    const summary = page.locator("ul.summary li");
    await summary.first().waitFor();
    const sentences = await summary.allTextContents();
    expect(sentences.length).toBeGreaterThan(0);
    for (const s of sentences) expect(DOCUMENT).toContain(s);
    expect(await page.locator("ol.keywords .term").count()).toBeGreaterThan(0);
    await expectText(page.locator("dl.stats dt").first(), "Characters");
    expect(await page.locator("dl.stats dd").first().textContent()).toBe(
      DOCUMENT.length.toLocaleString("en-US"),
    );
    expect(await page.locator("p.sentiment .badge").textContent()).toMatch(/^(Positive|Neutral|Negative)$/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "web-console-result.png"), fullPage: true });
  });

  it("reads on a phone-sized window without sideways scrolling", async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.getByRole("heading", { name: "Summary" }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "web-console-result-phone.png"), fullPage: true });
  });

  it("ships a small production bundle", async () => {
    const scripts = requested.filter((u) => /\/assets\/.+\.js$/.test(u));
    expect(scripts).toHaveLength(1);
    const js = Buffer.from(await (await fetch(scripts[0]!)).arrayBuffer());
    expect(gzipSync(js, { level: 9 }).length).toBeLessThan(80 * 1024);
    expect(js.toString("utf8")).not.toContain("react-dom.development");
  });

  it("loaded everything from the API's own origin (no CDN, no remote fonts)", () => {
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((u) => !u.startsWith(`${stack.apiUrl}/`) && !u.startsWith("data:"))).toEqual([]);
    expect(requested.some((u) => u.includes(KEY))).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});

describe("the API docs in Chromium", () => {
  it("render Swagger UI under their CSP: no violation, no script error, nothing remote", async () => {
    const docs = await context.newPage();
    const errors: string[] = [];
    const urls: string[] = [];
    docs.on("request", (req) => urls.push(req.url()));
    docs.on("pageerror", (error) => errors.push(error.message));
    docs.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await docs.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const res = await docs.goto(`${stack.apiUrl}/docs`);
    expect(res?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await docs.locator(".swagger-ui .info .title").filter({ hasText: "content-engine API" }).waitFor();
    // Open an operation: its highlighted examples, then "Try it out" with its form.
    await docs.locator("#operations-default-getJob .opblock-summary").click();
    await docs.locator("#operations-default-getJob .highlight-code").first().waitFor();
    await docs.locator("#operations-default-getJob .try-out__btn").click();
    await docs.locator("#operations-default-getJob .execute").waitFor();
    // "Try it out" really calls the API under connect-src 'self'.
    await docs.locator("#operations-default-health .opblock-summary").click();
    await docs.locator("#operations-default-health .try-out__btn").click();
    await docs.locator("#operations-default-health .execute").click();
    await docs
      .locator("#operations-default-health .live-responses-table .response-col_status")
      .filter({ hasText: "200" })
      .first()
      .waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await docs.screenshot({ path: join(ARTIFACTS, "api-docs.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(urls.filter((u) => !u.startsWith(`${stack.apiUrl}/`) && !u.startsWith("data:"))).toEqual([]);
    await docs.close();
  });
});

async function expectText(locator: ReturnType<Page["locator"]>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 10_000 });
  expect((await locator.first().textContent())?.trim()).toBe(text);
}
