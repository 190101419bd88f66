// Freeze windows: absolute (start..end) or weekly (weekdays, from..to in UTC).
import { type FreezeWindow, WEEKDAYS } from "@content-engine/environments";

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
