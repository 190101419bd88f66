// What a PromQL expression reads: the metric families it selects and the labels it matches or
// groups by, checked against the telemetry catalog so a query can only name what is declared.
import { familyOfSeries } from "./index.ts";

export interface PromqlReferences {
  /** Series names selected (`x_bucket` stays `x_bucket`). */
  metrics: string[];
  /** Label names used in matchers, per series name. */
  matchers: Record<string, string[]>;
  /** Label names in `by`, `without`, `on`, `ignoring`, `group_left`/`group_right`. */
  grouping: string[];
}

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
]);

/** Reads the selectors and grouping labels of an expression (no full parser: enough for our queries). */
export function promqlReferences(expr: string): PromqlReferences {
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, "");
  const grouping: string[] = [];
  rest = rest.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, _k, labels: string) => {
      grouping.push(
        ...labels
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean),
      );
      return " ";
    },
  );
  const metrics: string[] = [];
  const matchers: Record<string, string[]> = {};
  rest = rest.replace(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g, (_m, name: string | undefined, body: string) => {
    const labels = [...body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    const metric = name ?? "";
    if (metric) {
      metrics.push(metric);
      matchers[metric] = [...(matchers[metric] ?? []), ...labels];
    }
    return " ";
  });
  for (const m of rest.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    const word = m[1]!;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    metrics.push(word);
    matchers[word] ??= [];
  }
  return { metrics: [...new Set(metrics)], matchers, grouping: [...new Set(grouping)] };
}

/**
 * Throws, naming the expression, when it selects a metric the catalog does not declare or uses a
 * label outside the selected families' label sets.
 */
export function assertPromqlInCatalog(expr: string, where: string): void {
  const refs = promqlReferences(expr);
  const families = refs.metrics.map((name) => {
    const family = familyOfSeries(name);
    if (!family) throw new Error(`${where}: metric ${name} is not in the telemetry catalog (in: ${expr})`);
    for (const label of refs.matchers[name] ?? []) {
      const allowed =
        name.endsWith("_bucket") || label !== "le" ? family.labels : family.labels.filter((l) => l !== "le");
      if (!allowed.includes(label)) {
        throw new Error(
          `${where}: label ${label} is not declared for ${family.name} (declared: ${family.labels.join(", ")})`,
        );
      }
    }
    return family;
  });
  for (const label of refs.grouping) {
    if (!families.some((f) => f.labels.includes(label))) {
      throw new Error(`${where}: grouping label ${label} is declared by none of ${refs.metrics.join(", ")}`);
    }
  }
}
