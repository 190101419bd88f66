import type { SupportedContentType, TextStats } from "@content-engine/core";
import { convert } from "html-to-text";
import { PermanentProcessingError, type ProcessorInput, type ProcessorOutput } from "./processor.ts";

const WORDS_PER_MINUTE = 238;

/** Reduces an upload to the plain text the models read. */
export function extractText(raw: string, contentType: SupportedContentType): string {
  switch (contentType) {
    case "text/html":
      return convert(raw, {
        wordwrap: false,
        selectors: [
          { selector: "a", options: { ignoreHref: true } },
          { selector: "img", format: "skip" },
          { selector: "script", format: "skip" },
          { selector: "style", format: "skip" },
        ],
      });
    case "text/markdown":
      return stripMarkdown(raw);
    case "application/json":
      return jsonStrings(raw).join("\n");
    default:
      return raw;
  }
}

function stripMarkdown(md: string): string {
  return md
    .replace(/```[\s\S]*?```/g, " ")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, "")
    .replace(/(\*\*|__|\*|_|~~)(\S[\s\S]*?\S|\S)\1/g, "$2");
}

function jsonStrings(raw: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new PermanentProcessingError("invalid_json", "the uploaded JSON document does not parse");
  }
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return out;
}

/** Word, sentence and reading-time counts over the whole text (cheap, no model). */
export function textStats(text: string): TextStats {
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)?.length ?? 0;
  const sentences = text.split(/[.!?]+(?:\s+|$)|\n{2,}/).filter((s) => /[\p{L}\p{N}]/u.test(s)).length;
  return {
    characters: text.length,
    words,
    sentences,
    readingTimeSeconds: Math.ceil((words / WORDS_PER_MINUTE) * 60),
  };
}

/** What every processor returns before its analyses: who made it, for which tasks, and the stats. */
export function baseOutput(processor: string, model: string, input: ProcessorInput): ProcessorOutput {
  return { jobId: input.jobId, processor, model, tasks: [...input.tasks], stats: textStats(input.text) };
}
