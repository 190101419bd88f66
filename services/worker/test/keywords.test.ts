import { describe, expect, it } from "vitest";
import { LocalNlpProcessor } from "../src/processors/index.ts";
import { GENERIC_WORDS, isHit, KEYWORD_DOCUMENTS, precisionAt5 } from "./keyword-documents.ts";

const processor = new LocalNlpProcessor();
const keywordsOf = async (text: string) =>
  (await processor.process({ jobId: "k", text, tasks: ["keywords"] })).keywords!;

describe("keywords (YAKE over the model's tokens)", () => {
  it("finds the terms a reader expects: mean precision at 5 of at least 0.75 over varied documents", async () => {
    const precisions: Record<string, number> = {};
    for (const doc of KEYWORD_DOCUMENTS) {
      precisions[doc.kind] = precisionAt5(
        (await keywordsOf(doc.text)).map((k) => k.term),
        doc.expected,
      );
    }
    const mean = Object.values(precisions).reduce((a, b) => a + b, 0) / KEYWORD_DOCUMENTS.length;
    // Ranking content words by raw frequency scored 0.6 here.
    expect(mean, JSON.stringify(precisions)).toBeGreaterThanOrEqual(0.75);
    expect(Math.min(...Object.values(precisions)), JSON.stringify(precisions)).toBeGreaterThanOrEqual(0.6);
  });

  it("never puts a generic word (year, month, low, main, new, open…) among the top five", async () => {
    for (const doc of KEYWORD_DOCUMENTS) {
      const top = (await keywordsOf(doc.text)).slice(0, 5).map((k) => k.term);
      for (const term of top) expect(GENERIC_WORDS, `${doc.kind}: ${top.join(", ")}`).not.toContain(term);
    }
  });

  it("ranks the subject of a short business report above the words it shares with every report", async () => {
    const report = KEYWORD_DOCUMENTS.find((d) => d.kind === "business report")!;
    const terms = (await keywordsOf(report.text)).map((k) => k.term);
    const firstSubject = terms.findIndex((t) => isHit(t, ["revenue", "subscription", "coffee"]));
    expect(firstSubject).toBeGreaterThanOrEqual(0);
    for (const generic of ["year", "month", "quarter", "euro"]) {
      const at = terms.indexOf(generic);
      if (at >= 0) expect(at, terms.join(", ")).toBeGreaterThan(firstSubject);
    }
  });

  it("keeps a word whose singular is a generic word apart from it (news is not new)", async () => {
    const text =
      "A new plan was announced today. The weekly news covered the new plan. Weekly news readers liked it.";
    expect((await keywordsOf(text)).map((k) => k.term)).toContain("weekly news");
  });

  it("keeps the result shape: at most ten {term, score}, distinct, scores in (0, 1] descending", async () => {
    for (const doc of KEYWORD_DOCUMENTS) {
      const keywords = await keywordsOf(doc.text);
      expect(keywords.length).toBeGreaterThan(0);
      expect(keywords.length).toBeLessThanOrEqual(10);
      expect(new Set(keywords.map((k) => k.term)).size).toBe(keywords.length);
      for (const k of keywords) expect(Object.keys(k).sort()).toEqual(["score", "term"]);
      const scores = keywords.map((k) => k.score);
      expect(scores[0]).toBe(1);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
    }
  });
});
