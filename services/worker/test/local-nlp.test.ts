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

  it("ranks the document's dominant term first and scores keywords in descending order", async () => {
    const out = await run(ARTICLE);
    expect(out.keywords![0]!.term).toBe("solar");
    const scores = out.keywords!.map((k) => k.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(out.keywords!.map((k) => k.term)).toContain("power");
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
