// Times in canary reports and pickers as this machine's local time (the agent sends ISO UTC). Pure.

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * An ISO time as this machine's local time: `HH:MM:SS` when it falls on the same local day as
 * `sameDayAs` (default: now), else `YYYY-MM-DD HH:MM:SS`. Unparsable input comes back unchanged.
 */
export function localTime(iso: string, sameDayAs: Date | string = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const ref = typeof sameDayAs === 'string' ? new Date(sameDayAs) : sameDayAs;
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const refDay = Number.isNaN(ref.getTime()) ? '' : `${ref.getFullYear()}-${pad(ref.getMonth() + 1)}-${pad(ref.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return day === refDay ? time : `${day} ${time}`;
}

/** `YYYY-MM-DD HH:MM:SS` local, always with the date. */
export function localDateTime(iso: string): string {
  return localTime(iso, '');
}
