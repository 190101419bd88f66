// Editing environment files the way a person would: only the touched values change,
// comments, ordering and layout stay (YAML document model, never re-serialised data).
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isScalar, parseDocument } from "yaml";
import { displayPath, parseEnvironment } from "./load.ts";
import type { Environment } from "./schema.ts";

export type FieldPath = readonly (string | number)[];
export interface FieldChange {
  path: FieldPath;
  value: unknown;
}

/** Returns `text` with each change applied; validates the result and throws on a bad value. */
export function setEnvironmentFields(
  text: string,
  changes: readonly FieldChange[],
  file = "environment",
): string {
  const doc = parseDocument(text);
  for (const { path, value } of changes) {
    const node = doc.getIn(path, true);
    // Keep the node (and its comment and quoting) when replacing a scalar with a scalar.
    if (isScalar(node) && (value === null || typeof value !== "object")) node.value = value;
    else doc.setIn(path, value);
  }
  const next = doc.toString({ flowCollectionPadding: false });
  parseEnvironment(next, file);
  return next;
}

/** Reads a field from YAML text without validation (for diffs and plans). */
export function getEnvironmentField(text: string, path: FieldPath): unknown {
  const value = parseDocument(text).getIn(path);
  return isScalar(value) ? value.value : value;
}

/** Applies changes to a file in place (atomic rename); returns the validated environment. */
export function updateEnvironmentFile(file: string, changes: readonly FieldChange[]): Environment {
  const next = setEnvironmentFields(readFileSync(file, "utf8"), changes, displayPath(file));
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, next);
  renameSync(temporary, file);
  return parseEnvironment(next, displayPath(file));
}
