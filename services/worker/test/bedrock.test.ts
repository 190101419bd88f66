import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BedrockProcessor, PermanentProcessingError, ProcessorPool } from "../src/processors/index.ts";

// No emulator answers Bedrock (neither fauxqs nor moto): the Converse API is mocked at the SDK boundary.
const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());

const answer = (text: string, stopReason = "end_turn") => ({
  output: { message: { role: "assistant" as const, content: [{ text }] } },
  stopReason: stopReason as "end_turn",
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
  metrics: { latencyMs: 1 },
});

const input = {
  jobId: "00000000-0000-4000-8000-000000000000",
  text: "The launch went well. Customers are happy.",
  tasks: ["summary", "keywords", "sentiment"] as const,
};

describe("Bedrock processor (mocked Bedrock: no emulator serves the Converse API)", () => {
  it("sends the document to the configured model and maps its JSON answer onto the result", async () => {
    bedrock
      .on(ConverseCommand)
      .resolves(
        answer(
          'Here you go: {"summary":["The launch went well."],"keywords":["launch","customers"],"sentiment":0.8}',
        ),
      );
    const processor = new BedrockProcessor(
      new BedrockRuntimeClient({ region: "us-east-1" }),
      "anthropic.claude-test",
    );
    const out = await processor.process({ ...input, tasks: [...input.tasks] });

    const call = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(call.modelId).toBe("anthropic.claude-test");
    expect(JSON.stringify(call.messages)).toContain("Customers are happy.");
    expect(out).toMatchObject({
      processor: "bedrock",
      model: "anthropic.claude-test",
      summary: ["The launch went well."],
      keywords: [
        { term: "launch", score: 1 },
        { term: "customers", score: 0.9 },
      ],
      sentiment: { score: 0.8, label: "positive" },
      stats: { words: 7, sentences: 2 },
    });
  });

  it("fails the job permanently when the model answers without JSON", async () => {
    bedrock.on(ConverseCommand).resolves(answer("I cannot help with that."));
    const processor = new BedrockProcessor(new BedrockRuntimeClient({ region: "us-east-1" }), "m");
    await expect(processor.process({ ...input, tasks: [...input.tasks] })).rejects.toMatchObject({
      code: "bad_model_answer",
    });
  });

  it("fails the job permanently when a guardrail blocks the document", async () => {
    bedrock.on(ConverseCommand).resolves(answer("", "guardrail_intervened"));
    const processor = new BedrockProcessor(new BedrockRuntimeClient({ region: "us-east-1" }), "m");
    await expect(processor.process({ ...input, tasks: [...input.tasks] })).rejects.toBeInstanceOf(
      PermanentProcessingError,
    );
  });

  it("lets throttling errors through so the message is retried", async () => {
    bedrock
      .on(ConverseCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    const processor = new BedrockProcessor(
      new BedrockRuntimeClient({ region: "us-east-1", maxAttempts: 1 }),
      "m",
    );
    const error = await processor.process({ ...input, tasks: [...input.tasks] }).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PermanentProcessingError);
    expect((error as Error).name).toBe("ThrottlingException");
  });

  describe("with its documents read in a prepare pool, as the service runs it", () => {
    const pools: ProcessorPool[] = [];
    const preparePool = (budgetMs: number) => {
      const pool = new ProcessorPool({ threads: 1, budgetMs, wallClockMs: 120_000, operation: "prepare" });
      pools.push(pool);
      return pool;
    };
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.close()));
    });
    const para = "<p>Solar power <b>capacity</b> grew faster than any <a href='#'>other</a> source.</p>\n";

    it("extracts the upload's text in a thread and sends the model that text, counted", async () => {
      bedrock.on(ConverseCommand).resolves(answer('{"summary":["Solar power capacity grew."]}'));
      const processor = new BedrockProcessor(
        new BedrockRuntimeClient({ region: "us-east-1" }),
        "m",
        preparePool(60_000),
      );
      const out = await processor.process({
        ...input,
        tasks: ["summary"],
        text: `<html><body>${para.repeat(3)}<script>ignore()</script></body></html>`,
        contentType: "text/html",
      });
      const prompt = JSON.stringify(bedrock.commandCalls(ConverseCommand)[0]!.args[0].input.messages);
      expect(prompt).toContain("Solar power capacity grew faster than any other source.");
      expect(prompt).not.toContain("<b>");
      expect(prompt).not.toContain("ignore()");
      expect(out.stats).toMatchObject({ sentences: 3, words: 27 });
      expect(out.summary).toEqual(["Solar power capacity grew."]);
    });

    it("fails a document whose extraction overruns the CPU budget as document_too_complex, before any Bedrock call", async () => {
      bedrock.on(ConverseCommand).resolves(answer("{}"));
      const pool = preparePool(50);
      const processor = new BedrockProcessor(new BedrockRuntimeClient({ region: "us-east-1" }), "m", pool);
      // About 5 MiB of HTML: more than a second of extraction, far past a 50 ms budget.
      const error = await processor
        .process({ ...input, tasks: ["summary"], text: para.repeat(70_000), contentType: "text/html" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentProcessingError);
      expect(error).toMatchObject({ code: "document_too_complex" });
      expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
      await expect.poll(() => pool.recycled, { timeout: 30_000 }).toBe(1);
    });

    it("closes its pool with the processor", async () => {
      const pool = preparePool(60_000);
      const processor = new BedrockProcessor(new BedrockRuntimeClient({ region: "us-east-1" }), "m", pool);
      await processor.close();
      await expect(pool.prepare({ ...input, tasks: ["summary"] })).rejects.toThrow(/closed/);
    });
  });
});
