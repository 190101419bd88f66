import { ALL_TASKS, type Task } from "@content-engine/core";
import { describe, expect, it } from "vitest";
import {
  extractText,
  LocalNlpProcessor,
  PermanentProcessingError,
  textStats,
} from "../src/processors/index.ts";

const ARTICLE = [
  "Solar power capacity grew faster than any other energy source last year.",
  "Installers added record numbers of solar panels on rooftops and in large solar farms.",
  "Cheaper panels and better batteries made solar power attractive for households.",
  "Some regions still lack the grid connections needed to carry the new solar energy.",
  "Analysts expect solar capacity to double again within five years.",
  "Wind power also grew, but more slowly than solar.",
].join(" ");

const POSITIVE =
  "I love this product. The support team was wonderful, friendly and fast. Everything works perfectly and I am delighted.";
const NEGATIVE =
  "This is the worst service I have ever used. The app crashes constantly, support is rude, and I am furious about the terrible billing errors.";

const processor = new LocalNlpProcessor();
const run = (text: string, tasks: readonly Task[] = ALL_TASKS) =>
  processor.process({ jobId: "00000000-0000-4000-8000-000000000000", text, tasks: [...tasks] });

describe("local NLP processor (wink-nlp, bundled English model)", () => {
  it("builds the summary only from sentences that are in the document, in document order", async () => {
    const out = await run(ARTICLE);
    expect(out.summary!.length).toBeGreaterThanOrEqual(1);
    expect(out.summary!.length).toBeLessThan(6);
    for (const sentence of out.summary!) expect(ARTICLE).toContain(sentence);
    const positions = out.summary!.map((s) => ARTICLE.indexOf(s));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it("ranks the document's subject near the top and scores keywords in descending order, best = 1", async () => {
    const out = await run(ARTICLE);
    expect(out.keywords!.slice(0, 3).map((k) => k.term)).toContain("solar power");
    expect(out.keywords![0]!.score).toBe(1);
    const scores = out.keywords!.map((k) => k.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
  });

  it("gives clearly positive text a positive score and clearly negative text a negative one", async () => {
    const positive = await run(POSITIVE, ["sentiment"]);
    const negative = await run(NEGATIVE, ["sentiment"]);
    expect(positive.sentiment!.score).toBeGreaterThan(0.2);
    expect(positive.sentiment!.label).toBe("positive");
    expect(negative.sentiment!.score).toBeLessThan(-0.2);
    expect(negative.sentiment!.label).toBe("negative");
  });

  it("returns only the requested analyses, and always the text statistics", async () => {
    const out = await run(ARTICLE, ["keywords"]);
    expect(out.keywords).toBeDefined();
    expect(out.summary).toBeUndefined();
    expect(out.sentiment).toBeUndefined();
    expect(out.stats).toMatchObject({ sentences: 6 });
    expect(out.stats.words).toBe(ARTICLE.split(/\s+/).length);
  });

  it("fails permanently on a document without readable text", async () => {
    await expect(run("   12345 ... ---   ")).rejects.toBeInstanceOf(PermanentProcessingError);
  });

  it("reads the plain text out of an upload when told its content type", async () => {
    const html = `<html><body><h1>Solar power</h1><p>${ARTICLE}</p><script>var x = 1;</script></body></html>`;
    const out = await processor.process({
      jobId: "j",
      text: html,
      contentType: "text/html",
      tasks: ["keywords"],
    });
    expect(out.keywords!.map((k) => k.term)).toContain("solar power");
    expect(out.stats.words).toBe(ARTICLE.split(/\s+/).length + 2);
  });
});

// Each of these took from 14 s to several minutes before tokens were capped and the regular
// expressions made linear (the test timeout, not a clock, is what fails them on the old code).
describe("hostile content is read in linear time", () => {
  const MiB = 1024 * 1024;
  const base64 = (chars: number) =>
    Buffer.from(Array.from({ length: Math.ceil((chars * 3) / 4) }, (_, i) => (i * 7919 + (i >> 8)) % 256))
      .toString("base64")
      .slice(0, chars);

  it("rejects a document that is one long blob (base64, one repeated character) as having no words", async () => {
    for (const blob of [base64(MiB), "a".repeat(MiB)]) {
      const error = await run(blob).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentProcessingError);
      expect(error).toMatchObject({ code: "no_text", message: expect.stringMatching(/64 characters/) });
    }
  });

  it("analyses the words around a blob and leaves the blob out of the keywords", async () => {
    const out = await run(`${ARTICLE}\n${base64(200_000)}\n${ARTICLE}`);
    expect(out.keywords!.map((k) => k.term)).toContain("solar power");
    expect(out.keywords!.every((k) => k.term.length <= 3 * 64)).toBe(true);
    expect(out.summary!.every((s) => ARTICLE.includes(s))).toBe(true);
  });

  it("analyses base64 broken into 64-character lines (PEM, MIME) without blowing up", async () => {
    const lines = base64(MiB).replace(/(.{64})/g, "$1\n");
    const out = await run(lines, ["keywords", "sentiment"]);
    expect(out.stats.characters).toBe(lines.length);
    expect(out.sentiment!.label).toBe("neutral");
  });

  it("counts sentences in a megabyte of punctuation", async () => {
    const out = await run(`Solar power is cheap. ${".".repeat(MiB)}a. ${"!".repeat(MiB)}b`, ["sentiment"]);
    expect(out.stats.sentences).toBe(3);
  });

  it("strips markdown made of unclosed links, images and emphasis", () => {
    for (const md of ["![".repeat(MiB / 2), "[a](".repeat(MiB / 4), "*a ".repeat(MiB / 3)]) {
      expect(extractText(`${md} solar power`, "text/markdown")).toMatch(/solar power$/);
    }
  });

  it("fails deeply nested HTML as too complex, and reads deeply nested JSON", () => {
    const error = (() => {
      try {
        return extractText(`${"<div>".repeat(20_000)}deep`, "text/html");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({
      code: "document_too_complex",
      message: "the HTML is nested too deeply to read",
    });
    const json = `${"[".repeat(100_000)}"deep"${"]".repeat(100_000)}`;
    expect(extractText(json, "application/json")).toBe("deep");
  });
});

describe("text extraction", () => {
  it("reduces HTML to its visible text, without tags, scripts or styles", () => {
    const html = `<html><head><style>p{color:red}</style><script>alert("x")</script></head>
      <body><h1>Quarterly report</h1><p>Revenue <b>grew</b> by 12%.</p><a href="http://x">Read more</a></body></html>`;
    const text = extractText(html, "text/html");
    expect(text).toContain("Revenue grew by 12%.");
    expect(text).not.toMatch(/<|alert|color:red|http:\/\/x/);
  });

  it("strips markdown markup but keeps the words", () => {
    const text = extractText(
      "# Title\n\nSome **bold** and [a link](http://x).\n\n- item one\n",
      "text/markdown",
    );
    expect(text).toContain("Title");
    expect(text).toContain("Some bold and a link.");
    expect(text).toContain("item one");
    expect(text).not.toMatch(/[#*[\]]|http/);
  });

  it("reads every string value of a JSON document, and rejects JSON that does not parse", () => {
    const text = extractText(
      JSON.stringify({ title: "Hello there", body: ["First part.", { nested: "Second part." }], n: 3 }),
      "application/json",
    );
    expect(text.split("\n")).toEqual(["Hello there", "First part.", "Second part."]);
    expect(() => extractText("{not json", "application/json")).toThrow(PermanentProcessingError);
  });

  it("counts words, sentences and reading time", () => {
    const words = Array.from({ length: 476 }, () => "word").join(" ");
    expect(textStats(`${words}.`)).toMatchObject({ words: 476, sentences: 1, readingTimeSeconds: 120 });
    expect(textStats("")).toMatchObject({ words: 0, sentences: 0, readingTimeSeconds: 0 });
  });
});
