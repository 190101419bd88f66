// What a PromQL expression reads — the metric families it selects, the labels it matches or groups
// by, the functions it calls — read from the parse tree of @prometheus-io/lezer-promql (the grammar
// Prometheus's own UI uses) and checked against the telemetry catalog, so a dashboard or a rule can
// only name what is declared.
import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";
import { familyOfSeries, type PrometheusSeriesFamily } from "./catalog.ts";

export interface PromqlReferences {
  /** Series names selected (`x_bucket` stays `x_bucket`). */
  metrics: string[];
  /** Label names used in matchers, per series name. */
  matchers: Record<string, string[]>;
  /** Label names in `by`, `without`, `on`, `ignoring`, `group_left`/`group_right`. */
  grouping: string[];
  /** Functions called (`rate`, `histogram_quantile`, ...), aggregations left out. */
  functions: string[];
}

/** The expression does not parse as PromQL; `position` is the offset of the first error. */
export class PromqlSyntaxError extends Error {
  readonly position: number;
  constructor(expr: string, position: number) {
    super(
      `PromQL does not parse at offset ${position}: ${JSON.stringify(expr.slice(Math.max(0, position - 20), position + 20))} (in: ${expr})`,
    );
    this.name = "PromqlSyntaxError";
    this.position = position;
  }
}

/** Functions whose argument must be a counter (a histogram's series are counters too). */
const COUNTER_FUNCTIONS = new Set(["rate", "irate", "increase", "resets"]);

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith("`") ? body : body.replace(/\\(.)/g, "$1");
}

interface Selector {
  metric: string;
  labels: string[];
}

function readSelector(node: SyntaxNode, text: (n: SyntaxNode) => string): Selector {
  let metric = "";
  const labels: string[] = [];
  const identifier = node.getChild("Identifier");
  if (identifier) metric = text(identifier);
  const matchers = node.getChild("LabelMatchers");
  for (let m = matchers?.firstChild ?? null; m; m = m.nextSibling) {
    if (m.name === "UnquotedLabelMatcher") {
      labels.push(text(m.getChild("LabelName")!));
    } else if (m.name === "QuotedLabelMatcher") {
      const name = unquote(text(m.getChild("QuotedLabelName")!.getChild("StringLiteral")!));
      if (name === "__name__") metric = unquote(text(m.getChild("StringLiteral")!));
      else labels.push(name);
    } else if (m.name === "QuotedLabelName") {
      // {"metric.name"}: a UTF-8 metric name in quotes.
      metric = unquote(text(m.getChild("StringLiteral")!));
    }
  }
  return { metric, labels };
}

interface Walked extends PromqlReferences {
  /** Series a counter function (`rate`, `increase`, ...) reads directly, with that function. */
  counterArguments: Array<{ fn: string; metric: string }>;
}

function walk(expr: string): Walked {
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  const metrics: string[] = [];
  const matchers: Record<string, string[]> = {};
  const grouping: string[] = [];
  const functions: string[] = [];
  const counterArguments: Walked["counterArguments"] = [];
  const cursor = tree.cursor();
  do {
    const node = cursor.node;
    if (node.type.isError) throw new PromqlSyntaxError(expr, node.from);
    switch (node.name) {
      case "VectorSelector": {
        const { metric, labels } = readSelector(node, text);
        metrics.push(metric);
        matchers[metric] = [...(matchers[metric] ?? []), ...labels];
        let up = node.parent;
        while (up && up.name !== "FunctionCall" && up.name !== "AggregateExpr") up = up.parent;
        const fn = up?.name === "FunctionCall" ? text(up.getChild("FunctionIdentifier")!) : "";
        if (COUNTER_FUNCTIONS.has(fn)) counterArguments.push({ fn, metric });
        break;
      }
      case "GroupingLabels":
        for (let l = node.firstChild; l; l = l.nextSibling) {
          if (l.name === "LabelName") grouping.push(text(l));
          if (l.name === "QuotedLabelName") grouping.push(unquote(text(l.getChild("StringLiteral")!)));
        }
        break;
      case "FunctionIdentifier":
        functions.push(text(node));
        break;
    }
  } while (cursor.next());
  return {
    metrics: [...new Set(metrics)],
    matchers,
    grouping: [...new Set(grouping)],
    functions: [...new Set(functions)],
    counterArguments,
  };
}

/**
 * Parses `expr` and returns what it references. Throws PromqlSyntaxError when it does not parse
 * (Grafana variables such as `$__rate_interval` must be resolved first).
 */
export function promqlReferences(expr: string): PromqlReferences {
  const { counterArguments: _, ...refs } = walk(expr);
  return refs;
}

/**
 * Throws, naming the expression, when it does not parse, selects a metric the catalog does not
 * declare, uses a label outside the selected families' label sets, or applies a counter function
 * (`rate`, `increase`, ...) to a gauge.
 */
export function assertPromqlInCatalog(expr: string, where: string): void {
  let refs: Walked;
  try {
    refs = walk(expr);
  } catch (error) {
    if (error instanceof PromqlSyntaxError) throw new Error(`${where}: ${error.message}`);
    throw error;
  }
  const families: PrometheusSeriesFamily[] = refs.metrics.map((name) => {
    if (!name) throw new Error(`${where}: a selector names no metric (in: ${expr})`);
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
  for (const { fn, metric } of refs.counterArguments) {
    if (familyOfSeries(metric)!.type === "gauge") {
      throw new Error(`${where}: ${fn}() of ${metric}, a gauge: ${fn} only means something on a counter`);
    }
  }
}
