// Keyphrases by YAKE (Campos et al., "YAKE! Keyword extraction from single documents using multiple
// local features", Information Sciences 509, 2020), following the reference implementation
// (github.com/LIAAD/yake: window 1, n-grams up to 3, the "bi" stop-word weight, dedup at 0.9), run
// over wink-nlp's tokens: its sentences, lemmas, stop words, case and part-of-speech tags.
// One change from the paper: a candidate must be a noun phrase by the model's tags (adjectives and
// nouns ending in a noun), so a lone "new" or "low" is never a keyword. YAKE itself keeps generic
// words ("year", "month") down: they sit next to many different words, which raises their relatedness
// score, where a subject term recurs in the same phrases.
// Second change: generic words, that say nothing about any document's subject (units of time,
// money and measure, vague nouns, all-purpose adjectives), count as stop words. YAKE alone still let
// "year" outrank "revenue" in a short business report: a general-English prior is what it lacks.
// Third: deduplication also drops a phrase whose words all sit in an already chosen longer phrase, so
// "sea surface temperature" does not crowd out the rest with "sea surface".
// No npm library fits: the maintained ones tokenize on their own (RAKE by regex, no tags) and the
// YAKE ports are unmaintained; this is ~150 lines over tokens we already have.

/** One token of a sentence, as the model read it. */
export interface KeywordToken {
  lemma: string;
  /** The lowercased word as written ("data", where the lemma is "datum"): what a keyword shows. */
  normal: string;
  pos: string;
  /** A word (not punctuation, number, URL, e-mail, emoji…). */
  word: boolean;
  stop: boolean;
  /** Title case or all capitals. */
  capitalised: boolean;
}

const MAX_WORDS = 3;
const TOP = 10;
const DEDUP_SIMILARITY = 0.9;
const NOUN = new Set(["NOUN", "PROPN"]);
const MODIFIER = new Set(["NOUN", "PROPN", "ADJ"]);

/** Lemmas that are never a document's subject, whatever part of speech the model gives them. */
export const GENERIC_TERMS = new Set(
  (
    "year month week day hour minute second quarter decade century time today tomorrow yesterday " +
    "morning evening night weekend moment period date " +
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june " +
    "july august september october november december " +
    "euro dollar pound cent percent per cent million billion thousand hundred number amount " +
    "kilometre kilometer metre meter litre liter gram kilogram mile " +
    "thing way lot kind sort part type case example fact point place end side bit area " +
    "new old main low high big small large good best better bad great open close full " +
    "first third last next other same different many much few several certain whole"
  ).split(" "),
);
interface TermStats {
  tf: number;
  tfCapitalised: number;
  sentences: number[];
  left: Map<string, number>;
  right: Map<string, number>;
  stop: boolean;
  score: number;
}

interface Candidate {
  lemmas: string[];
  tf: number;
  /** How often each written form occurred; the most frequent one is shown. */
  forms: Map<string, number>;
}

/**
 * The document's keyphrases, best first, scored in (0, 1] relative to the best one. Linear in the
 * number of tokens (each token starts at most MAX_WORDS candidates).
 */
export function rankKeyphrases(sentences: KeywordToken[][]): Array<{ term: string; score: number }> {
  const terms = new Map<string, TermStats>();
  const term = (t: KeywordToken): TermStats => {
    let s = terms.get(t.lemma);
    if (!s) {
      s = {
        tf: 0,
        tfCapitalised: 0,
        sentences: [],
        left: new Map(),
        right: new Map(),
        stop: t.stop,
        score: 0,
      };
      terms.set(t.lemma, s);
    }
    return s;
  };
  const candidates = new Map<string, Candidate>();

  sentences.forEach((tokens, sentenceIndex) => {
    // Chunks: runs of words, broken by punctuation and every non-word token (YAKE's "u"/"d" tags).
    let chunk: KeywordToken[] = [];
    let sentenceStart = true;
    const flush = () => {
      collectCandidates(chunk, candidates);
      chunk = [];
    };
    for (const token of tokens) {
      if (!token.word || token.lemma.length < 2) {
        flush();
        continue;
      }
      if (GENERIC_TERMS.has(token.lemma) || GENERIC_TERMS.has(token.normal)) token.stop = true;
      // YAKE's term identity: lowercase, a plural "s" dropped (the model lemmatises names and nouns
      // at a sentence start differently, so "Teenagers" and "teenagers" would be two terms); but
      // "news" must not become the generic "new".
      const singular = token.lemma.length > 3 && token.lemma.endsWith("s") ? token.lemma.slice(0, -1) : "";
      if (singular && !GENERIC_TERMS.has(singular)) token.lemma = singular;
      const stats = term(token);
      stats.tf += 1;
      // Sentence-initial capitals say nothing; elsewhere they mark names and acronyms.
      if (token.capitalised && !sentenceStart) stats.tfCapitalised += 1;
      sentenceStart = false;
      if (stats.sentences.at(-1) !== sentenceIndex) stats.sentences.push(sentenceIndex);
      const previous = chunk.at(-1);
      if (previous) {
        const p = term(previous);
        p.right.set(token.lemma, (p.right.get(token.lemma) ?? 0) + 1);
        stats.left.set(previous.lemma, (stats.left.get(previous.lemma) ?? 0) + 1);
      }
      chunk.push(token);
    }
    flush();
  });
  if (candidates.size === 0) return [];

  scoreTerms(terms, sentences.length);
  const scored = [...candidates.entries()].map(([key, c]) => ({ key, score: candidateScore(c, terms) }));
  scored.sort((a, b) => a.score - b.score || a.key.localeCompare(b.key));

  const chosen: Array<{ key: string; score: number }> = [];
  // Bounded: a document of near-identical words cannot make deduplication quadratic.
  for (const c of scored.slice(0, TOP * 50)) {
    if (chosen.length === TOP) break;
    if (chosen.some((k) => similarity(k.key, c.key) > DEDUP_SIMILARITY || nested(k.key, c.key))) continue;
    chosen.push(c);
  }
  const best = chosen[0]!.score;
  return chosen.map((c) => ({
    term: mostFrequent(candidates.get(c.key)!.forms),
    score: Math.round((best / c.score) * 1000) / 1000,
  }));
}

function collectCandidates(chunk: KeywordToken[], candidates: Map<string, Candidate>): void {
  for (let start = 0; start < chunk.length; start++) {
    const first = chunk[start]!;
    if (first.stop || !MODIFIER.has(first.pos)) continue;
    for (let end = start; end < Math.min(chunk.length, start + MAX_WORDS); end++) {
      const last = chunk[end]!;
      // Noun phrases by the model's tags; "of" may join two ("bill of rights").
      if (last.stop ? last.lemma !== "of" : !MODIFIER.has(last.pos)) break;
      if (last.stop || !NOUN.has(last.pos) || last.lemma.length < 3) continue;
      const words = chunk.slice(start, end + 1);
      const lemmas = words.map((t) => t.lemma);
      const key = lemmas.join(" ");
      const form = words.map((t) => t.normal).join(" ");
      const c = candidates.get(key) ?? { lemmas, tf: 0, forms: new Map<string, number>() };
      c.tf += 1;
      c.forms.set(form, (c.forms.get(form) ?? 0) + 1);
      candidates.set(key, c);
    }
  }
}

/** YAKE's per-term score H: low for important terms. */
function scoreTerms(terms: Map<string, TermStats>, sentenceCount: number): void {
  const contentTfs = [...terms.values()].filter((t) => !t.stop).map((t) => t.tf);
  const tfs = contentTfs.length > 0 ? contentTfs : [1];
  const mean = tfs.reduce((a, b) => a + b, 0) / tfs.length;
  const std = Math.sqrt(tfs.reduce((a, b) => a + (b - mean) ** 2, 0) / tfs.length);
  let maxTf = 1;
  for (const t of terms.values()) if (t.tf > maxTf) maxTf = t.tf;
  for (const t of terms.values()) {
    const diversity = (m: Map<string, number>) => {
      let total = 0;
      for (const n of m.values()) total += n;
      return total === 0 ? 0 : m.size / total;
    };
    const relatedness =
      0.5 + diversity(t.left) * (t.tf / maxTf) + (0.5 + diversity(t.right) * (t.tf / maxTf));
    const casing = t.tfCapitalised / (1 + Math.log(t.tf));
    const position = Math.log(Math.log(3 + median(t.sentences)));
    const frequency = t.tf / (mean + std);
    const spread = t.sentences.length / Math.max(1, sentenceCount);
    t.score = (position * relatedness) / (casing + frequency / relatedness + spread / relatedness);
  }
}

/** YAKE's candidate score: product over its terms over (sum + 1) times its own frequency; low = good. */
function candidateScore(candidate: Candidate, terms: Map<string, TermStats>): number {
  let product = 1;
  let sum = 0;
  candidate.lemmas.forEach((lemma, i) => {
    const t = terms.get(lemma)!;
    // Only a joining "of" is a stop word inside a candidate; its ends are content words.
    if (!t.stop || i === 0 || i === candidate.lemmas.length - 1) {
      product *= t.score;
      sum += t.score;
      return;
    }
    // A stop word inside a phrase weighs by how surely its neighbours come with it.
    const before = terms.get(candidate.lemmas[i - 1]!)!;
    const after = terms.get(candidate.lemmas[i + 1]!)!;
    const p =
      ((before.right.get(lemma) ?? 0) / before.tf) *
      ((t.right.get(candidate.lemmas[i + 1]!) ?? 0) / after.tf);
    product *= 2 - p;
    sum -= 1 - p;
  });
  return product / ((sum + 1) * candidate.tf);
}

function mostFrequent(forms: Map<string, number>): string {
  let best = "";
  let count = 0;
  for (const [form, n] of forms) {
    if (n > count) {
      best = form;
      count = n;
    }
  }
  return best;
}

/** Every word of `inner` occurs in the longer `outer` ("sea surface" in "sea surface temperature"). */
function nested(outer: string, inner: string): boolean {
  const words = new Set(outer.split(" "));
  const innerWords = inner.split(" ");
  return innerWords.length < words.size && innerWords.every((w) => words.has(w));
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 1 - normalised Levenshtein distance, as YAKE's default deduplication ("seqm"-like) uses. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return 1 - previous[b.length]! / Math.max(a.length, b.length);
}
