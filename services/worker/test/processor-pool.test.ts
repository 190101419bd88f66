import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { analyseDocument, PermanentProcessingError, ProcessorPool } from "../src/processors/index.ts";

const ARTICLE = [
  "Solar power capacity grew faster than any other energy source last year.",
  "Installers added record numbers of solar panels on rooftops and in large solar farms.",
  "Cheaper panels and better batteries made solar power attractive for households.",
].join(" ");
// About 200,000 characters of prose: the most the model reads, roughly a second of work.
const LONG = Array.from({ length: 900 }, (_, i) => `Paragraph ${i}. ${ARTICLE}`).join("\n");
const input = (text: string) => ({
  jobId: "00000000-0000-4000-8000-000000000000",
  text,
  tasks: ["summary", "keywords", "sentiment"] as const,
});

const pools: ProcessorPool[] = [];
// The wall-clock backstop is set far out unless a test is about it: CPU time is what is under test.
const pool = (budgetMs: number, threads = 1, wallClockMs = 120_000) => {
  const p = new ProcessorPool({ threads, budgetMs, wallClockMs });
  pools.push(p);
  return p;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("processor pool (worker threads)", () => {
  it("gives the same result as the processor run in place, from a thread of its own", async () => {
    const threaded = await pool(60_000).process(input(ARTICLE));
    expect(threaded).toEqual(analyseDocument(input(ARTICLE)));
  });

  it("spreads documents over its threads and finishes every one", async () => {
    const p = pool(60_000, 2);
    expect(p.threads).toBe(2);
    const outs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => p.process({ ...input(`${ARTICLE} Item ${i}.`), jobId: String(i) })),
    );
    expect(outs.map((o) => o.jobId)).toEqual(["0", "1", "2", "3", "4", "5"]);
  });

  it("stops a document that overruns its CPU budget as document_too_complex, and replaces the thread", async () => {
    // LONG needs several hundred ms of CPU; a short document a few.
    const p = pool(100);
    const error = await p.process(input(LONG)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentProcessingError);
    expect(error).toMatchObject({
      code: "document_too_complex",
      message: "processing the document used more than its budget of 100 ms of CPU time and was stopped",
    });
    // The overrun thread is terminated, not left spinning; a fresh one takes the next document.
    await expect.poll(() => p.recycled, { timeout: 30_000 }).toBe(1);
    const next = await p.process(input("Solar power is cheap. Solar panels are everywhere."));
    expect(next.keywords!.map((k) => k.term).join(" ")).toMatch(/solar/);
  });

  it("stops a document that outgrows its thread's heap limit as document_too_complex, and replaces only that thread", async () => {
    // About a million characters needs more than 32 MB of heap in a thread (its text statistics
    // cover the whole document); a short document far less.
    const p = new ProcessorPool({ threads: 1, budgetMs: 60_000, wallClockMs: 120_000, heapMb: 32 });
    pools.push(p);
    const huge = Array.from({ length: 4500 }, (_, i) => `Paragraph ${i}. ${ARTICLE}`).join("\n");
    expect(huge.length).toBeGreaterThan(1_000_000);
    const error = await p.process(input(huge)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentProcessingError);
    expect(error).toMatchObject({
      code: "document_too_complex",
      message: "processing the document ran out of memory and was stopped",
    });
    const next = await p.process(input("Solar power is cheap. Solar panels are everywhere."));
    expect(next.keywords!.map((k) => k.term).join(" ")).toMatch(/solar/);
  });

  it("runs only the operation its threads were started for", async () => {
    const analyse = pool(60_000);
    await expect(analyse.prepare(input(ARTICLE))).rejects.toThrow(
      "this processor pool's threads analyse, they do not prepare",
    );
    const prepare = new ProcessorPool({ threads: 1, budgetMs: 60_000, operation: "prepare" });
    pools.push(prepare);
    await expect(prepare.process(input(ARTICLE))).rejects.toThrow(
      "this processor pool's threads prepare, they do not analyse",
    );
    expect(await prepare.prepare(input(ARTICLE))).toMatchObject({ text: ARTICLE, stats: { sentences: 3 } });
  });

  it("also stops a document after its wall-clock backstop, should the thread be starved of CPU", async () => {
    const p = pool(60_000, 1, 1);
    await expect(p.process(input(LONG))).rejects.toMatchObject({
      code: "document_too_complex",
      message: "processing the document took longer than 1 ms and was stopped",
    });
    await expect.poll(() => p.recycled, { timeout: 30_000 }).toBe(1);
  });

  it("passes a document's own fault through as that fault, and keeps its thread", async () => {
    const p = pool(60_000);
    const error = await p
      .process({ ...input("<div>".repeat(20_000)), contentType: "text/html" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "PermanentProcessingError", code: "document_too_complex" });
    await expect(p.process(input("   "))).rejects.toMatchObject({ code: "no_text" });
    expect(p.recycled).toBe(0);
  });

  it("refuses work once closed, and fails what was still waiting", async () => {
    const p = pool(60_000);
    const running = p.process(input(LONG)).catch((e: Error) => e.message);
    const waiting = p.process(input(ARTICLE)).catch((e: Error) => e.message);
    await p.close();
    expect(await running).toBe("the processor pool was closed");
    expect(await waiting).toBe("the processor pool was closed");
    await expect(p.process(input(ARTICLE))).rejects.toThrow("the processor pool is closed");
  });

  it("starts its threads in a process run with the Lambda Node runtime's flags (--expose-gc, heap sizes)", async () => {
    // Those flags are the process's: a thread given them explicitly refuses to start.
    const dir = mkdtempSync(join(tmpdir(), "pool-flags-"));
    const script = join(dir, "pool.ts");
    const source = new URL("../src/processors/index.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { ProcessorPool } from ${JSON.stringify(source)};
const pool = new ProcessorPool({ threads: 1, budgetMs: 60_000 });
const out = await pool.process(${JSON.stringify(input(ARTICLE))});
await pool.close();
console.log(out.jobId);\n`,
    );
    try {
      const flags = ["--expose-gc", "--max-semi-space-size=51", "--max-old-space-size=922"];
      const { stdout } = await promisify(execFile)(process.execPath, [...flags, script], {
        encoding: "utf8",
      });
      expect(stdout.trim()).toBe(input(ARTICLE).jobId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
