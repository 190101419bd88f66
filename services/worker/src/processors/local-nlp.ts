import model from "wink-eng-lite-web-model";
import winkNLP, { type ItemSentence, type ItemToken } from "wink-nlp";
import {
  PermanentProcessingError,
  type Processor,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processor.ts";
import { baseOutput } from "./text.ts";

/** Analyse at most this many characters with the model; stats still count the whole text. */
const MAX_ANALYSED_CHARS = 200_000;
const CONTENT_POS = new Set(["NOUN", "PROPN", "ADJ"]);
const NOUN_POS = new Set(["NOUN", "PROPN"]);

const nlp = winkNLP(model);
const its = nlp.its;

interface SentenceInfo {
  text: string;
  terms: string[];
  sentiment: number;
}

/**
 * The default processor: wink-nlp with its bundled English model, all on the CPU, no network.
 * Extractive summary (sentences ranked by the weight of their content terms), keywords (nouns and
 * noun pairs ranked by frequency), sentiment (the model's document score), text statistics.
 */
export class LocalNlpProcessor implements Processor {
  readonly name = "local-nlp";
  readonly model = "wink-eng-lite-web-model";

  async process(input: ProcessorInput): Promise<ProcessorOutput> {
    const text = input.text.slice(0, MAX_ANALYSED_CHARS);
    if (!/[\p{L}]/u.test(text)) {
      throw new PermanentProcessingError("no_text", "the document contains no readable text");
    }
    const doc = nlp.readDoc(text);
    const sentences: SentenceInfo[] = [];
    const termFreq = new Map<string, number>();

    doc.sentences().each((sentence: ItemSentence) => {
      const terms: string[] = [];
      let previous: string | undefined;
      sentence.tokens().each((token: ItemToken) => {
        if (token.out(its.type) !== "word") {
          previous = undefined;
          return;
        }
        // The typings declare `its.lemma` with the wrong arity; at run time it is a plain item function.
        const lemma = String(token.out(its.lemma as unknown as typeof its.normal)).toLowerCase();
        const pos = token.out(its.pos);
        const isContent = CONTENT_POS.has(pos) && !token.out(its.stopWordFlag) && lemma.length > 2;
        if (!isContent) {
          previous = undefined;
          return;
        }
        terms.push(lemma);
        termFreq.set(lemma, (termFreq.get(lemma) ?? 0) + 1);
        // Phrases: a content word followed by a noun ("solar power", "support team").
        if (previous && NOUN_POS.has(pos)) terms.push(`${previous} ${lemma}`);
        previous = lemma;
      });
      sentences.push({ text: sentence.out().trim(), terms, sentiment: Number(sentence.out(its.sentiment)) });
    });

    const out = baseOutput(this.name, this.model, input);
    if (input.tasks.includes("summary")) out.summary = summarise(sentences, termFreq);
    if (input.tasks.includes("keywords")) out.keywords = rankKeywords(sentences);
    if (input.tasks.includes("sentiment")) out.sentiment = sentimentOf(Number(doc.out(its.sentiment)));
    return out;
  }
}

function summarise(sentences: SentenceInfo[], termFreq: Map<string, number>): string[] {
  if (sentences.length === 0) return [];
  const maxFreq = Math.max(1, ...termFreq.values());
  const wanted = Math.min(
    5,
    Math.max(sentences.length >= 4 ? 2 : 1, Math.round(sentences.length * 0.2)),
    sentences.length,
  );
  const scored = sentences.map((s, index) => {
    const words = s.terms.filter((t) => !t.includes(" "));
    const weight = words.reduce((sum, t) => sum + (termFreq.get(t) ?? 0) / maxFreq, 0);
    // Longer sentences carry more terms; the square root keeps them from always winning.
    // Documents tend to open with their point: a small lead bonus for the first two sentences.
    const lead = index === 0 ? 0.3 : index === 1 ? 0.1 : 0;
    const score = words.length === 0 ? 0 : weight / Math.sqrt(words.length) + lead;
    return { index, score, text: s.text };
  });
  return scored
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, wanted)
    .sort((a, b) => a.index - b.index)
    .map((s) => s.text);
}

/**
 * Content words and two-word phrases, ranked by frequency; a phrase counts only when it recurs, and
 * then outranks its parts' single mentions (it is the more specific keyword).
 */
function rankKeywords(sentences: SentenceInfo[]): Array<{ term: string; score: number }> {
  const freq = new Map<string, number>();
  for (const s of sentences) for (const t of s.terms) freq.set(t, (freq.get(t) ?? 0) + 1);
  const entries = [...freq.entries()]
    .filter(([term, count]) => !term.includes(" ") || count >= 2)
    .map(([term, count]): [string, number] => [term, term.includes(" ") ? count * 1.5 : count]);
  const max = Math.max(1, ...entries.map(([, c]) => c));
  return entries
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 10)
    .map(([term, count]) => ({ term, score: Math.round((count / max) * 1000) / 1000 }));
}

export function sentimentOf(score: number): { score: number; label: "positive" | "neutral" | "negative" } {
  const clamped = Math.max(-1, Math.min(1, Math.round(score * 1000) / 1000));
  const label = clamped > 0.05 ? "positive" : clamped < -0.05 ? "negative" : "neutral";
  return { score: clamped, label };
}
