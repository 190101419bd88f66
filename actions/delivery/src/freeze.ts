// Freeze windows: absolute (start..end) or weekly (weekdays, from..to in UTC), and the gate every
// deploy passes first (refused inside a window unless a break-glass reason overrides it).
import { type Environment, type FreezeWindow, WEEKDAYS } from "@content-engine/environments";
import { finish, type Outcome, Stopwatch } from "./outcome.ts";
import type { Reporter } from "./reporter.ts";

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(":").map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** The window `now` falls in, if any. */
export function activeFreezeWindow(windows: readonly FreezeWindow[], now: Date): FreezeWindow | undefined {
  return windows.find((window) => {
    if ("start" in window) return now >= new Date(window.start) && now <= new Date(window.end);
    const day = WEEKDAYS[now.getUTCDay()]!;
    const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
    return (
      window.weekdays.includes(day) && minute >= minutesOf(window.from) && minute <= minutesOf(window.to)
    );
  });
}

export function describeFreezeWindow(window: FreezeWindow): string {
  return "start" in window
    ? `${window.reason} (${window.start} to ${window.end})`
    : `${window.reason} (${window.weekdays.join(", ")} ${window.from}-${window.to} UTC)`;
}

/** A break-glass reason counts when it says something. */
function breakGlassReason(breakGlass: string | undefined): string | undefined {
  const reason = breakGlass?.trim();
  return reason ? reason : undefined;
}

/** The sentence a deploy refuses with: `env` is in a freeze window and no break-glass reason was given. */
export function freezeRefusal(env: Environment, now: Date, breakGlass?: string): string | undefined {
  const window = activeFreezeWindow(env.promotion.freezeWindows, now);
  if (!window || breakGlassReason(breakGlass)) return undefined;
  return `refused: ${env.name} is frozen: ${describeFreezeWindow(window)} (set break-glass to override)`;
}

/** The line a deploy records when a break-glass reason overrides an active freeze window. */
export function breakGlassOverride(env: Environment, now: Date, breakGlass?: string): string | undefined {
  const window = activeFreezeWindow(env.promotion.freezeWindows, now);
  const reason = breakGlassReason(breakGlass);
  if (!window || !reason) return undefined;
  return `break-glass: ${reason} (freeze window "${window.reason}" overridden)`;
}

export interface FreezeGate {
  operation: string;
  target: string;
  env: Environment;
  now: Date;
  breakGlass?: string;
  reporter: Reporter;
}

/**
 * Every deploy passes this first: inside a freeze window it changes nothing and fails, unless a
 * break-glass reason is given; then the override is warned about and recorded in the diagnostics.
 */
export async function freezeGated(gate: FreezeGate, deploy: () => Promise<Outcome>): Promise<Outcome> {
  const refusal = freezeRefusal(gate.env, gate.now, gate.breakGlass);
  if (refusal) {
    return finish(new Stopwatch(), {
      operation: gate.operation,
      target: gate.target,
      status: "failed",
      reason: refusal,
      diagnostics: [`${refusal}; nothing was changed`],
    });
  }
  const override = breakGlassOverride(gate.env, gate.now, gate.breakGlass);
  if (!override) return deploy();
  gate.reporter.warn(override);
  const outcome = await deploy();
  return { ...outcome, diagnostics: [override, ...outcome.diagnostics] };
}
