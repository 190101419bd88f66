// The JSON schema editors use (committed as environments/schema.json, checked current by a test).
import { z } from "zod";
import { environmentSchema } from "./schema.ts";

export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(environmentSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "content-engine environment" }, null, 2)}\n`;
}
