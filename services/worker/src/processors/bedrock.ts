import { type BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { z } from "zod";
import { sentimentOf } from "./local-nlp.ts";
import {
  PermanentProcessingError,
  type Processor,
  type ProcessorInput,
  type ProcessorOutput,
} from "./processor.ts";
import { baseOutput, type PreparedDocument, prepareDocument } from "./text.ts";

/** Bedrock models take long inputs, but cost grows with them: send at most this much text. */
const MAX_PROMPT_CHARS = 60_000;

const modelAnswerSchema = z.object({
  summary: z.array(z.string()).optional(),
  keywords: z.array(z.string()).optional(),
  sentiment: z.number().min(-1).max(1).optional(),
});

const SYSTEM_PROMPT = [
  "You analyse documents for a content service. Answer with one JSON object and nothing else.",
  'Keys: "summary" (array of 1-5 sentences copied from the document that best summarise it),',
  '"keywords" (array of up to 10 key terms, most important first),',
  '"sentiment" (number from -1 very negative to 1 very positive).',
  "Include only the keys that are requested.",
].join(" ");

/** Reads a document for the model: in a pool's thread in the service, in place by default. */
export interface DocumentPreparer {
  prepare(input: ProcessorInput): Promise<PreparedDocument>;
  close?(): Promise<void>;
}

const inPlace: DocumentPreparer = { prepare: async (input) => prepareDocument(input) };

/**
 * Amazon Bedrock through the Converse API; the model id comes from configuration. Text extraction
 * (HTML, JSON, Markdown) and counting are CPU work on the whole upload, a couple of seconds for
 * 25 MiB of HTML: the service hands them to a `prepare` ProcessorPool, so they run off the event
 * loop under the same CPU budget and heap limit as the local model.
 */
export class BedrockProcessor implements Processor {
  readonly name = "bedrock";
  private readonly client: BedrockRuntimeClient;
  private readonly modelId: string;
  private readonly preparer: DocumentPreparer;

  constructor(client: BedrockRuntimeClient, modelId: string, preparer: DocumentPreparer = inPlace) {
    this.client = client;
    this.modelId = modelId;
    this.preparer = preparer;
  }

  async close(): Promise<void> {
    await this.preparer.close?.();
  }

  async process(input: ProcessorInput): Promise<ProcessorOutput> {
    const { text: document, stats } = await this.preparer.prepare(input);
    const prompt = `Requested keys: ${input.tasks.join(", ")}.\n\nDocument:\n${document.slice(0, MAX_PROMPT_CHARS)}`;
    const response = await this.client.send(
      new ConverseCommand({
        modelId: this.modelId,
        system: [{ text: SYSTEM_PROMPT }],
        messages: [{ role: "user", content: [{ text: prompt }] }],
        inferenceConfig: { maxTokens: 1024, temperature: 0 },
      }),
    );
    if (response.stopReason === "guardrail_intervened" || response.stopReason === "content_filtered") {
      throw new PermanentProcessingError(
        "model_refused",
        `the model refused the document (${response.stopReason})`,
      );
    }
    const text = response.output?.message?.content?.map((c) => c.text ?? "").join("") ?? "";
    const answer = parseAnswer(text);
    const out = baseOutput(this.name, this.modelId, input, stats);
    if (input.tasks.includes("summary")) out.summary = answer.summary ?? [];
    if (input.tasks.includes("keywords")) {
      const terms = answer.keywords ?? [];
      out.keywords = terms
        .slice(0, 10)
        .map((term, i) => ({ term, score: Math.round((1 - i / 10) * 1000) / 1000 }));
    }
    if (input.tasks.includes("sentiment")) out.sentiment = sentimentOf(answer.sentiment ?? 0);
    return out;
  }
}

function parseAnswer(text: string): z.infer<typeof modelAnswerSchema> {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) {
    throw new PermanentProcessingError("bad_model_answer", "the model did not answer with a JSON object");
  }
  let json: unknown;
  try {
    json = JSON.parse(text.slice(start, end + 1));
  } catch {
    throw new PermanentProcessingError("bad_model_answer", "the model's JSON answer does not parse");
  }
  const parsed = modelAnswerSchema.safeParse(json);
  if (!parsed.success) {
    throw new PermanentProcessingError(
      "bad_model_answer",
      `the model's answer has the wrong shape: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}
