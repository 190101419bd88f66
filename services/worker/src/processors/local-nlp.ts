import model from "wink-eng-lite-web-model";
import winkNLP, { type ItemSentence, type ItemToken } from "wink-nlp";
import { type KeywordToken, rankKeyphrases } from "./keywords.ts";
import {
  PermanentProcessingError,
  type Processor,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processor.ts";
import { baseOutput, extractText } from "./text.ts";

/** Analyse at most this many characters with the model; stats still count the whole text. */
const MAX_ANALYSED_CHARS = 200_000;
/**
 * The longest run of characters without a space the model is given. wink-nlp's tokenizer tries its
 * URL/e-mail/… patterns from every position of a run, so its cost grows with the square of the run
 * (a 40,000-character base64 blob took 14 s). Words, numbers, e-mail addresses and most links are
 * shorter; longer runs are blobs (base64, hashes, minified code) with nothing for the model to read.
 */
export const MAX_TOKEN_CHARS = 64;
const CONTENT_POS = new Set(["NOUN", "PROPN", "ADJ"]);

// wink's tokenizer splits on exactly these; every other space character becomes a plain space first,
// so a "run" here is what the tokenizer sees as one raw token.
const OTHER_SPACES = /[^\S \u00a0\u2002-\u2005\u2009\u200a\u202f\u205f\n\r\t]+/g;
const LONG_RUN = new RegExp(
  `[^ \\u00a0\\u2002-\\u2005\\u2009\\u200a\\u202f\\u205f\\n\\r\\t]{${MAX_TOKEN_CHARS + 1},}`,
  "g",
);

let loaded: ReturnType<typeof winkNLP> | undefined;

/**
 * The model, read on first use (about half a second and tens of MiB): only the threads that analyse
 * documents pay for it, not every process that imports this module (the consumer's main thread).
 */
export function loadModel(): ReturnType<typeof winkNLP> {
  loaded ??= winkNLP(model);
  return loaded;
}

interface SentenceInfo {
  text: string;
  terms: string[];
}

/**
 * The text the model reads: the first MAX_ANALYSED_CHARS characters, with every run of more than
 * MAX_TOKEN_CHARS non-space characters replaced by a space. Linear in the input.
 */
export function modelInput(text: string): string {
  return text.slice(0, MAX_ANALYSED_CHARS).replace(OTHER_SPACES, " ").replace(LONG_RUN, " ");
}

/**
 * Everything the local processor does to one document, synchronously: extract the text (when given a
 * content type), then wink-nlp with its bundled English model, all on the CPU, no network. Extractive
 * summary (sentences ranked by the weight of their content terms), keywords (YAKE over the model's
 * tokens, see keywords.ts), sentiment (the model's document score), text statistics.
 * The processor pool runs this in a worker thread; its cost is linear in the document's size.
 */
export function analyseDocument(input: ProcessorInput): ProcessorOutput {
  const text = input.contentType ? extractText(input.text, input.contentType) : input.text;
  const readable = modelInput(text);
  if (!/\p{L}/u.test(readable)) {
    throw new PermanentProcessingError(
      "no_text",
      /\p{L}/u.test(text.slice(0, MAX_ANALYSED_CHARS))
        ? `the document contains no readable words (runs of more than ${MAX_TOKEN_CHARS} characters without a space are not analysed)`
        : "the document contains no readable text",
    );
  }
  const nlp = loadModel();
  const its = nlp.its;
  // The typings declare `its.lemma` with the wrong arity; at run time it is a plain item function.
  const lemmaOf = its.lemma as unknown as typeof its.normal;
  const doc = nlp.readDoc(readable);
  const sentences: SentenceInfo[] = [];
  const termFreq = new Map<string, number>();
  const keywordSentences: KeywordToken[][] = [];

  doc.sentences().each((sentence: ItemSentence) => {
    const terms: string[] = [];
    const tokens: KeywordToken[] = [];
    sentence.tokens().each((token: ItemToken) => {
      const type = token.out(its.type);
      const lemma = String(token.out(lemmaOf)).toLowerCase();
      const pos = token.out(its.pos);
      tokens.push({
        lemma,
        normal: String(token.out(its.normal)),
        pos,
        word: type === "word",
        stop: Boolean(token.out(its.stopWordFlag)),
        capitalised: token.out(its.case) === "titleCase" || token.out(its.case) === "upperCase",
      });
      if (type === "word" && CONTENT_POS.has(pos) && !token.out(its.stopWordFlag) && lemma.length > 2) {
        terms.push(lemma);
        termFreq.set(lemma, (termFreq.get(lemma) ?? 0) + 1);
      }
    });
    keywordSentences.push(tokens);
    sentences.push({ text: sentence.out().trim(), terms });
  });

  const out = baseOutput(LOCAL_NLP.name, LOCAL_NLP.model, { ...input, text });
  if (input.tasks.includes("summary")) out.summary = summarise(sentences, termFreq);
  if (input.tasks.includes("keywords")) out.keywords = rankKeyphrases(keywordSentences);
  if (input.tasks.includes("sentiment")) out.sentiment = sentimentOf(Number(doc.out(its.sentiment)));
  return out;
}

const LOCAL_NLP = { name: "local-nlp", model: "wink-eng-lite-web-model" } as const;

/**
 * The local processor on the caller's own thread. The worker uses the processor pool (which runs
 * `analyseDocument` in worker threads under a time budget); this one serves tests and tools.
 */
export class LocalNlpProcessor implements Processor {
  readonly name = LOCAL_NLP.name;
  readonly model = LOCAL_NLP.model;

  async process(input: ProcessorInput): Promise<ProcessorOutput> {
    return analyseDocument(input);
  }
}

function summarise(sentences: SentenceInfo[], termFreq: Map<string, number>): string[] {
  if (sentences.length === 0) return [];
  let maxFreq = 1;
  for (const f of termFreq.values()) if (f > maxFreq) maxFreq = f;
  const wanted = Math.min(
    5,
    Math.max(sentences.length >= 4 ? 2 : 1, Math.round(sentences.length * 0.2)),
    sentences.length,
  );
  const scored = sentences.map((s, index) => {
    const weight = s.terms.reduce((sum, t) => sum + (termFreq.get(t) ?? 0) / maxFreq, 0);
    // Longer sentences carry more terms; the square root keeps them from always winning.
    // Documents tend to open with their point: a small lead bonus for the first two sentences.
    const lead = index === 0 ? 0.3 : index === 1 ? 0.1 : 0;
    const score = s.terms.length === 0 ? 0 : weight / Math.sqrt(s.terms.length) + lead;
    return { index, score, text: s.text };
  });
  return scored
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, wanted)
    .sort((a, b) => a.index - b.index)
    .map((s) => s.text);
}

export function sentimentOf(score: number): { score: number; label: "positive" | "neutral" | "negative" } {
  const clamped = Math.max(-1, Math.min(1, Math.round(score * 1000) / 1000));
  const label = clamped > 0.05 ? "positive" : clamped < -0.05 ? "negative" : "neutral";
  return { score: clamped, label };
}
