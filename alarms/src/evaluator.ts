// CloudWatch alarm semantics, small enough to read: M-of-N datapoints, the four ways to treat
// missing data, metric math over several metrics, and composite rules. The table tests feed it
// datapoint series with the generated alarms — the `promtool test rules` that CloudWatch lacks.
import type { CompositeAlarmInput, MetricAlarmInput } from "./cloudwatch.ts";

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";
/** One datapoint per period, oldest first; null when the period has no data. */
export type Datapoint = number | null;

function breaches(value: number, alarm: MetricAlarmInput): boolean {
  switch (alarm.ComparisonOperator) {
    case "GreaterThanThreshold":
      return value > alarm.Threshold;
    case "GreaterThanOrEqualToThreshold":
      return value >= alarm.Threshold;
    case "LessThanThreshold":
      return value < alarm.Threshold;
    case "LessThanOrEqualToThreshold":
      return value <= alarm.Threshold;
  }
}

/**
 * The state of a metric alarm given its evaluation range: the datapoints CloudWatch retrieves,
 * oldest first — a few more periods than `EvaluationPeriods` (5 for 3 in the documented tables).
 *
 * As the CloudWatch user guide documents ("How alarm state is evaluated when data is missing"):
 * - at least `EvaluationPeriods` real datapoints in the range: the most recent that many decide,
 *   and missing-data treatment does not matter;
 * - none: `missing` gives INSUFFICIENT_DATA, `ignore` keeps the state, `breaching` ALARM,
 *   `notBreaching` OK;
 * - some: every real datapoint counts and missing ones fill the rest, as few as possible —
 *   as breaching or not for `breaching`/`notBreaching`; for `missing` and `ignore` the real ones
 *   decide, except that real datapoints that all breach without reaching `DatapointsToAlarm` give
 *   INSUFFICIENT_DATA (`missing`; ALARM once they are older than the last `EvaluationPeriods`
 *   periods) or keep the state (`ignore`).
 */
export function evaluateMetricAlarm(
  alarm: MetricAlarmInput,
  data: Datapoint[] | Record<string, Datapoint[]>,
  previous: AlarmState = "INSUFFICIENT_DATA",
): AlarmState {
  const range = Array.isArray(data) ? data : metricMathSeries(alarm, data);
  const n = alarm.EvaluationPeriods;
  const m = alarm.DatapointsToAlarm;
  const treat = alarm.TreatMissingData;
  const real = range
    .map((value, index) => ({ value, index }))
    .filter((p): p is { value: number; index: number } => p.value !== null);
  if (real.length >= n) {
    const breaching = real.slice(-n).filter((p) => breaches(p.value, alarm)).length;
    return breaching >= m ? "ALARM" : "OK";
  }
  if (real.length === 0) {
    if (treat === "breaching") return "ALARM";
    if (treat === "notBreaching") return "OK";
    return treat === "ignore" ? previous : "INSUFFICIENT_DATA";
  }
  const breaching = real.filter((p) => breaches(p.value, alarm)).length;
  const filled = n - real.length;
  if (treat === "breaching") return breaching + filled >= m ? "ALARM" : "OK";
  if (breaching >= m) return "ALARM";
  if (treat === "notBreaching" || breaching < real.length) return "OK";
  if (treat === "ignore") return previous;
  const recent = real.some((p) => p.index >= range.length - n);
  return recent ? "INSUFFICIENT_DATA" : "ALARM";
}

function metricMathSeries(alarm: MetricAlarmInput, data: Record<string, Datapoint[]>): Datapoint[] {
  const output = alarm.Metrics?.find((q) => q.ReturnData);
  if (!output?.Expression) throw new Error(`${alarm.AlarmName}: not a metric-math alarm; pass one series`);
  const ids = (alarm.Metrics ?? []).filter((q) => q.MetricStat).map((q) => q.Id);
  for (const id of ids) if (!data[id]) throw new Error(`${alarm.AlarmName}: no series for metric ${id}`);
  const length = Math.max(...ids.map((id) => data[id]!.length));
  return evaluateSeries(parseExpression(output.Expression), length, (id) => {
    const series = data[id];
    if (!series) throw new Error(`${alarm.AlarmName}: expression uses unknown metric ${id}`);
    return Array.from({ length }, (_, i) => series[i] ?? null);
  });
}

type Node =
  | { kind: "number"; value: number }
  | { kind: "ref"; id: string }
  | { kind: "call"; name: string; args: Node[] }
  | { kind: "binary"; op: string; left: Node; right: Node }
  | { kind: "negate"; arg: Node };

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|[-+*/(),<>])/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.trimEnd().length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) throw new Error(`cannot read the expression ${JSON.stringify(text)} at ${start}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

/** Parses the metric-math subset the generated alarms use: + - * /, comparisons, AND/OR, IF, FILL, DIFF. */
export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (expected?: string) => {
    const token = tokens[pos++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`expression ${JSON.stringify(text)}: expected ${expected ?? "more"} at token ${pos}`);
    }
    return token;
  };
  const binary = (next: () => Node, ops: string[]) => (): Node => {
    let left = next();
    while (ops.includes(peek() ?? "")) left = { kind: "binary", op: take(), left, right: next() };
    return left;
  };
  const primary = (): Node => {
    const token = take();
    if (token === "(") {
      const inner = or();
      take(")");
      return inner;
    }
    if (token === "-") return { kind: "negate", arg: primary() };
    if (/^\d/.test(token)) return { kind: "number", value: Number(token) };
    if (peek() === "(") {
      take("(");
      const args = [or()];
      while (peek() === ",") {
        take(",");
        args.push(or());
      }
      take(")");
      return { kind: "call", name: token.toUpperCase(), args };
    }
    return { kind: "ref", id: token };
  };
  const product = binary(primary, ["*", "/"]);
  const sum = binary(product, ["+", "-"]);
  const comparison = binary(sum, [">", "<", ">=", "<=", "==", "!="]);
  const and = binary(comparison, ["AND"]);
  const or = binary(and, ["OR"]);
  const ast = or();
  if (pos !== tokens.length) throw new Error(`expression ${JSON.stringify(text)}: unexpected ${tokens[pos]}`);
  return ast;
}

/** Metric math works on whole series: most operators point by point, DIFF and FILL(…, REPEAT) across points. */
function evaluateSeries(node: Node, length: number, lookup: (id: string) => Datapoint[]): Datapoint[] {
  const pointwise = (f: (i: number) => Datapoint) => Array.from({ length }, (_, i) => f(i));
  switch (node.kind) {
    case "number":
      return pointwise(() => node.value);
    case "ref":
      return node.id.toUpperCase() === "REPEAT" ? pointwise(() => null) : lookup(node.id);
    case "negate": {
      const v = evaluateSeries(node.arg, length, lookup);
      return pointwise((i) => (v[i] === null ? null : -v[i]!));
    }
    case "call": {
      const args = node.args.map((a) => evaluateSeries(a, length, lookup));
      const [a = [], b = [], c = []] = args;
      if (node.name === "FILL") {
        const repeat = node.args[1]?.kind === "ref" && node.args[1].id.toUpperCase() === "REPEAT";
        let last: Datapoint = null;
        return pointwise((i) => {
          if (a[i] !== null) last = a[i]!;
          return a[i] ?? (repeat ? last : (b[i] ?? null));
        });
      }
      // CloudWatch's DIFF: each value minus the one before it; the first has none.
      if (node.name === "DIFF")
        return pointwise((i) => (i === 0 || a[i] === null || a[i - 1] === null ? null : a[i]! - a[i - 1]!));
      if (node.name === "IF")
        return pointwise((i) => (a[i] === null ? null : a[i] !== 0 ? (b[i] ?? null) : (c[i] ?? null)));
      throw new Error(`metric-math function ${node.name} is not supported by the evaluator`);
    }
    case "binary": {
      const left = evaluateSeries(node.left, length, lookup);
      const right = evaluateSeries(node.right, length, lookup);
      return pointwise((i) => binaryOp(node.op, left[i] ?? null, right[i] ?? null));
    }
  }
}

function binaryOp(op: string, a: Datapoint, b: Datapoint): Datapoint {
  if (a === null || b === null) return null;
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return b === 0 ? null : a / b;
    case ">":
      return Number(a > b);
    case "<":
      return Number(a < b);
    case ">=":
      return Number(a >= b);
    case "<=":
      return Number(a <= b);
    case "==":
      return Number(a === b);
    case "!=":
      return Number(a !== b);
    case "AND":
      return Number(a !== 0 && b !== 0);
    default:
      return Number(a !== 0 || b !== 0);
  }
}

/** A composite alarm's state from its members' states (ALARM(...), OK(...), INSUFFICIENT_DATA(...), AND, OR, NOT). */
export function evaluateCompositeAlarm(
  alarm: CompositeAlarmInput,
  states: Record<string, AlarmState>,
): AlarmState {
  const rule = alarm.AlarmRule.replace(
    /(ALARM|OK|INSUFFICIENT_DATA)\("?([^")]+)"?\)/g,
    (_m, state: string, name: string) => {
      const current = states[name];
      if (!current) throw new Error(`${alarm.AlarmName}: no state given for member ${name}`);
      return current === state ? "1" : "0";
    },
  );
  const normalised = rule
    .replace(/\bTRUE\b/g, "1")
    .replace(/\bFALSE\b/g, "0")
    .replace(/\bNOT\s+/g, "1 - ");
  const [value] = evaluateSeries(parseExpression(normalised), 1, () => [null]);
  return value === 1 ? "ALARM" : "OK";
}
