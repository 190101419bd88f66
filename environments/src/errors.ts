// One error type for everything wrong with an environment file: file, field, expected, got.
import type { z } from "zod";

export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `${typeof value} ${String(value)}`;
}

function valueAt(data: unknown, path: PropertyKey[]): unknown {
  let cursor = data;
  for (const key of path) {
    if (cursor === null || typeof cursor !== "object") return undefined;
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  return cursor;
}

function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int" ? "an integer" : `${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => String(v)).join(" | ")}`;
    case "too_small":
      return `${issue.origin === "array" ? "at least" : issue.inclusive === false ? ">" : ">="} ${String(issue.minimum)}${issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : ""}`;
    case "too_big":
      return `${issue.inclusive === false ? "<" : "<="} ${String(issue.maximum)}`;
    case "unrecognized_keys":
      return `no unknown fields (${issue.keys.join(", ")})`;
    case "invalid_format":
      return issue.format === "regex" ? issue.message : `a ${issue.format}`;
    case "invalid_union":
      return "one of the documented shapes";
    default:
      return issue.message;
  }
}

/** `<file>: <field.path>: expected …, got …`, one line per problem. */
export function formatIssues(file: string, data: unknown, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length ? issue.path.map(String).join(".") : "(root)";
      // A secret's field may hold the secret itself pasted by mistake: never echo it.
      const got =
        issue.code === "unrecognized_keys"
          ? "extra fields"
          : issue.path.includes("secrets")
            ? "a value (not shown)"
            : describeValue(valueAt(data, issue.path));
      return `${file}: ${field}: expected ${expected(issue)}, got ${got}`;
    })
    .join("\n");
}
