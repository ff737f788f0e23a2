/**
 * The one validity rule every family that asks for a certificate shares (a CA's, an issued
 * certificate's, an Alibaba KMS certificate's): ACM Private CA signs whole days. No CDK import.
 */

/**
 * The rule a validity in days breaks, or undefined: a whole number of days, at least `min` when
 * given. `shown` is how the error quotes the value (e.g. a Duration's human string).
 */
export function validityDaysProblem(days: number, shown: string = String(days), min?: number): string | undefined {
  if (!Number.isInteger(days) || (min !== undefined && days < min)) {
    return `must be a whole number of days${min === undefined ? '' : `, at least ${min}`}, got ${shown}`;
  }
  return undefined;
}
