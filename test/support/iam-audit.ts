// The IAM record check: every AWS call recorded at the moto or emulator boundary (iam-requests.ts),
// decided against the policies Terraform renders for the role that made it (iam-roles.ts), and every
// action those policies grant either used by some call or given a written reason.
import type { AwsExchange } from "./aws-proxy.ts";
import {
  type AuthorizationRequest,
  type Decision,
  evaluate,
  grantedActions,
  wildcardMatch,
} from "./iam-policy.ts";
import { PrincipalBook, type RecordedCall, recordExchange } from "./iam-requests.ts";
import { type IamRole, OIDC_HOST, oidcProviderArn } from "./iam-roles.ts";

export interface Violation {
  role: string;
  operation: string;
  action: string;
  resource?: string;
  decision: Decision | "unknown role";
  /** One sentence naming role, action and resource. */
  message: string;
}

export interface UnusedGrant {
  /** The Terraform document the grant is in (module/document), e.g. `github-oidc/deploy`. */
  document: string;
  action: string;
}

export interface AuditResult {
  /** Calls whose principal's policies were checked, and the requests IAM would authorise for them. */
  checkedCalls: number;
  checkedRequests: number;
  /** Calls not checked, by principal (the harness setting up and observing the world). */
  unchecked: Record<string, number>;
  /** Checked operations whose resource could not be derived: their action alone was checked. */
  actionOnly: string[];
  violations: Violation[];
  /** Actions used, per document. */
  used: Record<string, string[]>;
  /** Granted actions no call used and no reason covers. */
  unused: UnusedGrant[];
  /** Reasons for grants that are used after all, or no longer granted. */
  staleReasons: string[];
}

/**
 * Collects the calls of one or more proxies: pass `onExchange` to `startAwsProxy`. `onCall` also gets
 * each call as it is recorded.
 */
export function createIamRecorder(
  book = new PrincipalBook(),
  onCall: (call: RecordedCall) => void = () => {},
) {
  const calls: RecordedCall[] = [];
  const record = (exchange: AwsExchange): RecordedCall => {
    try {
      return recordExchange(exchange, book);
    } catch (error) {
      // Never take the proxy down: an unreadable call is a failure of the audit instead.
      const { service, operation } = exchange.call;
      return {
        principal: exchange.call.accessKeyId ?? "unsigned",
        checked: true,
        operation: `${service} ${operation}`,
        requests: [],
        error: (error as Error).message,
      };
    }
  };
  return {
    book,
    onExchange: (exchange: AwsExchange) => {
      const call = record(exchange);
      calls.push(call);
      onCall(call);
    },
    calls: () => [...calls],
  };
}

const describeRequest = (r: AuthorizationRequest) => `${r.action}${r.resource ? ` on ${r.resource}` : ""}`;

/** Decides one request of a checked call; assumption requests also need the target role's trust. */
function decide(
  call: RecordedCall,
  request: AuthorizationRequest,
  caller: IamRole | undefined,
  byArn: Map<string, IamRole>,
): { ok: boolean; decision: Violation["decision"]; why?: string } {
  if (request.action === "sts:AssumeRoleWithWebIdentity") {
    const target = byArn.get(request.resource ?? "");
    if (!target?.trust)
      return { ok: false, decision: "unknown role", why: "the role is not one Terraform creates" };
    const claims = call.webIdentityClaims ?? {};
    const account = (request.resource ?? "").split(":")[4] ?? "";
    const verdict = evaluate([target.trust], {
      ...request,
      principal: { type: "Federated", id: oidcProviderArn(account) },
      context: { [`${OIDC_HOST}:sub`]: claims.sub as string, [`${OIDC_HOST}:aud`]: claims.aud as string },
    });
    return verdict.decision === "allow"
      ? { ok: true, decision: "allow" }
      : { ok: false, decision: verdict.decision, why: `its trust policy refuses sub ${String(claims.sub)}` };
  }
  if (!caller) return { ok: false, decision: "unknown role", why: "no Terraform policy is known for it" };
  const own = evaluate(caller.permissions, request);
  if (own.decision !== "allow") return { ok: false, decision: own.decision };
  if (request.action === "sts:AssumeRole") {
    const target = byArn.get(request.resource ?? "");
    if (!target?.trust)
      return { ok: false, decision: "unknown role", why: "the target is not a role Terraform creates" };
    const trust = evaluate([target.trust], { ...request, principal: { type: "AWS", id: caller.arn } });
    if (trust.decision !== "allow")
      return {
        ok: false,
        decision: trust.decision,
        why: `${target.name}'s trust policy refuses ${caller.name}`,
      };
  }
  return { ok: true, decision: "allow" };
}

/**
 * Checks `calls` against `roles`' policies. With `reasons` (keyed `<document> <action>`), also lists
 * the granted actions no call used and no reason covers, and the reasons that no longer apply: pass
 * it only when the record covers everything the roles are for (a full rehearsal, not a subset).
 */
export function auditRecord(
  calls: readonly RecordedCall[],
  roles: readonly IamRole[],
  reasons?: Record<string, string>,
): AuditResult {
  const byArn = new Map(roles.map((r) => [r.arn, r]));
  const violations: Violation[] = [];
  const unchecked: Record<string, number> = {};
  const actionOnly = new Set<string>();
  const used = new Map<string, Set<string>>();
  let checkedCalls = 0;
  let checkedRequests = 0;
  for (const call of calls) {
    if (!call.checked) {
      unchecked[call.principal] = (unchecked[call.principal] ?? 0) + 1;
      continue;
    }
    checkedCalls++;
    if (call.error) {
      violations.push({
        role: call.principal,
        operation: call.operation,
        action: call.operation,
        decision: "unknown role",
        message: `${call.principal}'s ${call.operation} could not be decided: ${call.error}`,
      });
      continue;
    }
    if (call.actionOnly) actionOnly.add(`${call.operation} (${call.actionOnly})`);
    const caller = byArn.get(call.principal);
    for (const request of call.requests) {
      checkedRequests++;
      const verdict = decide(call, request, caller, byArn);
      const who = caller ? `${caller.name} (${caller.arn})` : call.principal;
      if (!verdict.ok) {
        violations.push({
          role: who,
          operation: call.operation,
          action: request.action,
          ...(request.resource ? { resource: request.resource } : {}),
          decision: verdict.decision,
          message: `${who} may not ${describeRequest(request)}: ${verdict.decision}${verdict.why ? ` (${verdict.why})` : ""}`,
        });
      } else if (caller && request.action !== "sts:AssumeRoleWithWebIdentity") {
        const set = used.get(caller.document) ?? new Set<string>();
        set.add(request.action);
        used.set(caller.document, set);
      }
    }
  }
  const unused: UnusedGrant[] = [];
  const staleReasons: string[] = [];
  if (reasons) {
    const documents = [...new Set(roles.map((r) => r.document))];
    const granted = new Map(
      documents.map((d) => [
        d,
        grantedActions(roles.filter((r) => r.document === d).flatMap((r) => r.permissions)),
      ]),
    );
    for (const [document, actions] of granted) {
      const usedHere = [...(used.get(document) ?? [])];
      for (const action of actions) {
        const isUsed = usedHere.some((u) => wildcardMatch(action, u, true));
        const reason = reasons[`${document} ${action}`];
        if (!isUsed && !reason) unused.push({ document, action });
        if (isUsed && reason) staleReasons.push(`${document} ${action}: used after all`);
      }
    }
    for (const key of Object.keys(reasons)) {
      const [document, action] = key.split(" ") as [string, string];
      if (!granted.get(document)?.includes(action)) staleReasons.push(`${key}: not granted any more`);
    }
  }
  return {
    checkedCalls,
    checkedRequests,
    unchecked,
    actionOnly: [...actionOnly].sort(),
    violations,
    used: Object.fromEntries([...used].map(([d, s]) => [d, [...s].sort()])),
    unused,
    staleReasons,
  };
}

/** The audit's verdict as lines a person reads (a repeated violation once, with its count): empty when clean. */
export function auditFailures(result: AuditResult): string[] {
  const violations = new Map<string, number>();
  for (const v of result.violations) {
    const line = `✖ ${v.message} [${v.operation}]`;
    violations.set(line, (violations.get(line) ?? 0) + 1);
  }
  return [
    ...[...violations].map(([line, n]) => (n > 1 ? `${line} ×${n}` : line)),
    ...result.unused.map(
      (u) => `✖ ${u.document} grants ${u.action}, which no recorded call used and no reason explains`,
    ),
    ...result.staleReasons.map((r) => `✖ stale reason: ${r}`),
  ];
}
