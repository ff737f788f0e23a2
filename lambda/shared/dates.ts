/** A service's date (an SDK `Date` or a string) as ISO 8601 for response Data; '' when absent or unreadable. */
export function isoDate(value: Date | string | undefined): string {
  if (value === undefined) {
    return '';
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** A wait as people say it: `10 minutes`, `1 minute`, `45 seconds`, `0.4 seconds`. */
export function durationText(ms: number): string {
  if (ms >= 60_000) {
    const minutes = Math.round(ms / 60_000);
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  const seconds = ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
