import type { SupportedContentType, TextStats } from "@content-engine/core";
import { convert } from "html-to-text";
import { PermanentProcessingError, type ProcessorInput, type ProcessorOutput } from "./processor.ts";

const WORDS_PER_MINUTE = 238;

/** Reduces an upload to the plain text the models read. */
export function extractText(raw: string, contentType: SupportedContentType): string {
  switch (contentType) {
    case "text/html":
      return tooComplexOnStackOverflow("HTML", () =>
        convert(raw, {
          wordwrap: false,
          selectors: [
            { selector: "a", options: { ignoreHref: true } },
            { selector: "img", format: "skip" },
            { selector: "script", format: "skip" },
            { selector: "style", format: "skip" },
          ],
        }),
      );
    case "text/markdown":
      return stripMarkdown(raw);
    case "application/json":
      return jsonStrings(raw).join("\n");
    default:
      return raw;
  }
}

// Each pattern stops at the next character that could start another match, so none rescans the text
// from every position: linear for any input (the lazy `[\s\S]*?` forms took seconds on "![![![…").
function stripMarkdown(md: string): string {
  return md
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/!\[[^[\]]*\]\([^()]*\)/g, " ")
    .replace(/\[([^[\]]*)\]\([^()]*\)/g, "$1")
    .replace(/^[ \t]{0,3}(#{1,6}|>|[-*+]|\d{1,9}\.)[ \t]+/gm, "")
    .replace(/\*+|~~+|(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, "");
}

/** A document nested deeper than the parser's stack is a client's problem, not a crash to retry. */
function tooComplexOnStackOverflow<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new PermanentProcessingError("document_too_complex", `the ${what} is nested too deeply to read`);
    }
    throw error;
  }
}

function jsonStrings(raw: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new PermanentProcessingError("invalid_json", "the uploaded JSON document does not parse");
  }
  // Iterative, so no depth of nesting can overflow the stack; strings come out in document order.
  const out: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") out.push(v);
    else if (v && typeof v === "object") {
      const children = Array.isArray(v) ? v : Object.values(v);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
  return out;
}

/** Word, sentence and reading-time counts over the whole text (cheap, no model). */
export function textStats(text: string): TextStats {
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)?.length ?? 0;
  // The lookbehind starts a match only at the first mark of a run: "....a" is not rescanned from
  // every dot (quadratic in the run's length).
  const sentences = text
    .split(/(?<![.!?])[.!?]+(?=\s|$)|\n{2,}/)
    .filter((s) => /[\p{L}\p{N}]/u.test(s)).length;
  return {
    characters: text.length,
    words,
    sentences,
    readingTimeSeconds: Math.ceil((words / WORDS_PER_MINUTE) * 60),
  };
}

/** A document read for a remote model: its text (extracted when the input has a content type) and stats. */
export interface PreparedDocument {
  text: string;
  stats: TextStats;
}

/** Extracts the text of an upload and counts it: the CPU-bound part of a remote model's job. */
export function prepareDocument(input: ProcessorInput): PreparedDocument {
  const text = input.contentType ? extractText(input.text, input.contentType) : input.text;
  return { text, stats: textStats(text) };
}

/** What every processor returns before its analyses: who made it, for which tasks, and the stats. */
export function baseOutput(
  processor: string,
  model: string,
  input: Pick<ProcessorInput, "jobId" | "tasks" | "text">,
  stats: TextStats = textStats(input.text),
): ProcessorOutput {
  return { jobId: input.jobId, processor, model, tasks: [...input.tasks], stats };
}
