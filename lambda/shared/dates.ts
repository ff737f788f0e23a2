/** A service's date (an SDK `Date` or a string) as ISO 8601 for response Data; '' when absent or unreadable. */
export function isoDate(value: Date | string | undefined): string {
  if (value === undefined) {
    return '';
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}
