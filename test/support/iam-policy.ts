// A small IAM policy evaluator: decides one request against IAM JSON policy documents (as Terraform's
// aws_iam_policy_document renders them, see iam-render.ts) the way AWS documents it: an explicit Deny
// wins, then any Allow, else the request is implicitly denied. It covers what our policies use and
// refuses, with an error naming the statement, anything it does not evaluate (numeric, date, IP and
// binary condition operators, policy variables such as ${aws:username}, NotPrincipal), so a policy
// never passes because a clause was skipped. It knows nothing of SCPs, permission boundaries,
// session policies, resource policies other than trust policies, or service-specific defaults.
// Plain, erasable TypeScript with no imports: the rehearsal's configure-aws-credentials stand-in loads
// it with node as it is.

export type Values = string | string[];

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: Values;
  NotAction?: Values;
  Resource?: Values;
  NotResource?: Values;
  Principal?: "*" | Record<string, Values>;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, Values | boolean>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}

/** Who makes the request: `{ type: "AWS", id: role ARN }`, `{ type: "Federated", id: provider ARN }`. */
export interface RequestPrincipal {
  type: "AWS" | "Federated" | "Service";
  id: string;
}

export interface AuthorizationRequest {
  /** `service:Operation`, e.g. `ecs:UpdateService`. */
  action: string;
  /**
   * The resource ARN, or `*` for actions without resource-level permissions. Undefined: an action-only
   * question ("does any statement grant this action?"), where Resource and Condition are not checked.
   */
  resource?: string;
  /** Needed when a statement names a Principal (trust policies). */
  principal?: RequestPrincipal;
  /** Condition keys of the request, e.g. `token.actions.githubusercontent.com:sub`. */
  context?: Record<string, Values | undefined>;
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

export interface Evaluation {
  decision: Decision;
  /** Sids (or statement indexes) of the statements that allowed, and that denied. */
  allowedBy: string[];
  deniedBy: string[];
}

/** A clause the evaluator does not evaluate: the policy cannot be decided here. */
export class UnsupportedPolicyError extends Error {
  override name = "UnsupportedPolicyError";
}

const list = (value: Values | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** `*` matches any run of characters, `?` one character; nothing else is special. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  // Iterative glob match with backtracking to the last `*`.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === "?" || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = vi;
    } else if (star >= 0) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

/**
 * ARN matching as ArnLike and the Resource element do it: the six colon-separated parts are compared
 * one by one (the last part is everything after the fifth colon), so a wildcard never spans a colon
 * between parts. `*` alone matches anything.
 */
export function arnMatch(pattern: string, arn: string): boolean {
  if (pattern === "*") return true;
  const parts = (s: string) => {
    const out = s.split(":");
    return out.length <= 6 ? out : [...out.slice(0, 5), out.slice(5).join(":")];
  };
  const p = parts(pattern);
  const a = parts(arn);
  if (p.length !== 6 || a.length !== 6) return wildcardMatch(pattern, arn);
  return p.every((segment, i) => wildcardMatch(segment, a[i]!));
}

const policyVariable = /\$\{[^}]*\}/;

function noPolicyVariables(values: string[], where: string) {
  const found = values.find((v) => policyVariable.test(v));
  if (found) throw new UnsupportedPolicyError(`${where}: policy variable in "${found}" is not evaluated`);
}

type Matcher = (policyValue: string, requestValue: string) => boolean;

const OPERATORS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (p, r) => p === r, negated: false },
  StringNotEquals: { match: (p, r) => p === r, negated: true },
  StringEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: true },
  StringLike: { match: (p, r) => wildcardMatch(p, r), negated: false },
  StringNotLike: { match: (p, r) => wildcardMatch(p, r), negated: true },
  ArnEquals: { match: (p, r) => p === r, negated: false },
  ArnNotEquals: { match: (p, r) => p === r, negated: true },
  ArnLike: { match: arnMatch, negated: false },
  ArnNotLike: { match: arnMatch, negated: true },
  Bool: { match: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false },
};

/** One `Operator: { key: values }` clause: every key must hold (AND), any value of a key may match (OR). */
function conditionHolds(
  operator: string,
  clause: Record<string, Values | boolean>,
  context: Record<string, Values | undefined>,
  where: string,
): boolean {
  const set = operator.match(/^(ForAnyValue|ForAllValues):/)?.[1];
  let base = set ? operator.slice(set.length + 1) : operator;
  const ifExists = base.endsWith("IfExists");
  if (ifExists) base = base.slice(0, -"IfExists".length);
  return Object.entries(clause).every(([rawKey, rawValues]) => {
    const policyValues = list(typeof rawValues === "boolean" ? String(rawValues) : rawValues);
    noPolicyVariables(policyValues, where);
    // Condition keys are case-insensitive; their values are not (unless the operator says so).
    const key = Object.keys(context).find((k) => k.toLowerCase() === rawKey.toLowerCase());
    const present = key === undefined ? undefined : context[key];
    if (base === "Null") {
      const wantsAbsent = policyValues.some((v) => v.toLowerCase() === "true");
      return (present === undefined) === wantsAbsent;
    }
    const op = OPERATORS[base];
    if (!op) throw new UnsupportedPolicyError(`${where}: condition operator ${operator} is not evaluated`);
    if (present === undefined) {
      // AWS: a missing key fails the condition, except with IfExists, a negated operator, or ForAllValues.
      return ifExists || op.negated || set === "ForAllValues";
    }
    const requestValues = list(present);
    if (!set && requestValues.length !== 1)
      throw new UnsupportedPolicyError(
        `${where}: ${operator} on the multivalued key ${rawKey} needs ForAnyValue or ForAllValues`,
      );
    const matches = (r: string) => policyValues.some((p) => op.match(p, r));
    const positive =
      set === "ForAllValues" ? requestValues.every(matches) : requestValues.some((r) => matches(r));
    // Negated operators hold when no value matches (ForAllValues: when no request value matches).
    return op.negated ? !positive : positive;
  });
}

function principalMatches(
  statement: PolicyStatement,
  principal: RequestPrincipal | undefined,
  where: string,
) {
  if (statement.NotPrincipal !== undefined) throw new UnsupportedPolicyError(`${where}: NotPrincipal`);
  if (statement.Principal === undefined) return true; // identity policy: the principal is its holder
  if (statement.Principal === "*") return true;
  if (!principal) return false;
  const ids = list(statement.Principal[principal.type]);
  return ids.some((id) => {
    if (id === "*") return true;
    if (principal.type !== "AWS") return id === principal.id;
    // An account root (or a bare account id) stands for every principal of that account.
    const account = principal.id.split(":")[4];
    if (id === account || id === `arn:aws:iam::${account}:root`) return true;
    return id === principal.id;
  });
}

/** Whether one statement applies to the request (its effect aside). */
export function statementApplies(statement: PolicyStatement, request: AuthorizationRequest, where: string) {
  const actions = list(statement.Action);
  const notActions = list(statement.NotAction);
  const actionHit =
    statement.Action !== undefined
      ? actions.some((a) => wildcardMatch(a, request.action, true))
      : notActions.length > 0 && !notActions.some((a) => wildcardMatch(a, request.action, true));
  if (!actionHit) return false;
  if (!principalMatches(statement, request.principal, where)) return false;
  const resource = request.resource;
  if (resource === undefined) return true;
  const resources = list(statement.Resource);
  const notResources = list(statement.NotResource);
  noPolicyVariables([...resources, ...notResources], where);
  if (statement.Resource !== undefined || statement.NotResource !== undefined) {
    const resourceHit =
      statement.Resource !== undefined
        ? resources.some((r) => arnMatch(r, resource))
        : !notResources.some((r) => arnMatch(r, resource));
    if (!resourceHit) return false;
  }
  const context = request.context ?? {};
  return Object.entries(statement.Condition ?? {}).every(([operator, clause]) =>
    conditionHolds(operator, clause, context, where),
  );
}

/** Decides `request` against every statement of `documents` (identity policies, or one trust policy). */
export function evaluate(documents: PolicyDocument[], request: AuthorizationRequest): Evaluation {
  const allowedBy: string[] = [];
  const deniedBy: string[] = [];
  documents.forEach((document, d) => {
    document.Statement.forEach((statement, s) => {
      const name = statement.Sid || `statement ${d}.${s}`;
      if (!statementApplies(statement, request, name)) return;
      (statement.Effect === "Deny" ? deniedBy : allowedBy).push(name);
    });
  });
  const decision: Decision =
    deniedBy.length > 0 ? "explicit-deny" : allowedBy.length > 0 ? "allow" : "implicit-deny";
  return { decision, allowedBy, deniedBy };
}

/** Every action pattern the Allow statements of `documents` grant (NotAction statements excluded). */
export function grantedActions(documents: PolicyDocument[]): string[] {
  const actions = documents.flatMap((d) =>
    d.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action)),
  );
  return [...new Set(actions)].sort();
}
