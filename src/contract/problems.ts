/**
 * One message for every rule a value breaks (DESIGN.md, "Bad input": all problems of one property
 * in one error, with the fix). Every `...Problem` function of the contract builds its message here,
 * so the construct (synth) and the handler (deploy) say the same thing. No CDK import.
 */

/** Values longer than this are not quoted back (the length rule says how long they are). */
export const MAX_QUOTED_LENGTH = 100;

/** `a`, `a, and b`, `a, b, and c`. */
export function joinRules(rules: readonly string[]): string {
  if (rules.length <= 1) {
    return rules[0] ?? '';
  }
  return `${rules.slice(0, -1).join(', ')}, and ${rules[rules.length - 1]}`;
}

/**
 * `'<value>' <rule 1>, and <rule 2>; <fix>`, or undefined when `rules` is empty. The value is
 * quoted unless it is longer than {@link MAX_QUOTED_LENGTH} characters.
 */
export function valueProblem(value: string, rules: readonly string[], fix?: string): string | undefined {
  if (rules.length === 0) {
    return undefined;
  }
  const subject = value.length <= MAX_QUOTED_LENGTH ? `'${value}' ` : '';
  return `${subject}${joinRules(rules)}${fix ? `; ${fix}` : ''}`;
}

/** Independent problems (each a whole clause with its own subject and fix) in one message, or undefined. */
export function joinProblems(problems: ReadonlyArray<string | undefined>): string | undefined {
  const present = problems.filter((p): p is string => p !== undefined && p !== '');
  return present.length === 0 ? undefined : present.join('; and ');
}

/** The distinct characters of `value` that `allowed` (a one-character pattern) refuses, quoted: `'_', ' '`. */
export function refusedCharacters(value: string, allowed: RegExp): string {
  const refused = [...new Set([...value].filter((c) => !allowed.test(c)))];
  return refused.map((c) => (c === "'" ? '"\'"' : `'${c}'`)).join(', ');
}
