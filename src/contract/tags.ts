/**
 * Tag rules, once, with each service's limits as data: the construct checks the tags `Tags.of()`
 * leaves on a resource at synth, the handler checks the ones that were tokens. No CDK import.
 */

/** A tag as CloudFormation renders it. */
export interface KeyValueTag {
  readonly Key: string;
  readonly Value: string;
}

/** One service's limits on the tags of one resource type. */
export interface TagRules {
  /** The service, as errors name it (`KMS`). */
  readonly service: string;
  /** What carries the tags, as errors name it. @default 'a certificate' */
  readonly resource?: string;
  /** The resource type, for the `excludeResourceTypes` hint. */
  readonly resourceType: string;
  /** How many tags a resource takes. @default no limit checked */
  readonly maxTags?: number;
  readonly keyMaxLength: number;
  readonly valueMaxLength: number;
  /** Characters keys and values may hold, and how errors say it. @default any */
  readonly characters?: { readonly pattern: RegExp; readonly text: string };
  /** Reserved prefixes, and how errors say it. @default none */
  readonly reserved?: { readonly pattern: RegExp; readonly text: string; readonly valuesToo: boolean };
}

/**
 * The letters, digits and spaces of any language, and `_ . : / = + - @`: the AWS `Tag` pattern
 * (IAM, ACM Private CA, Lightsail).
 */
export const AWS_TAG_CHARACTERS = {
  pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
  text: 'may hold only letters, digits, spaces and _ . : / = + - @',
};

/** Keys AWS reserves. */
export const AWS_RESERVED_TAG_KEYS = { pattern: /^aws:/i, text: "must not begin with 'aws:' (reserved by AWS)", valuesToo: false };

/** Returns every rule the tags break (empty when the service accepts them). */
export function tagProblems(rules: TagRules, tags: readonly KeyValueTag[]): string[] {
  const problems: string[] = [];
  if (rules.maxTags !== undefined && tags.length > rules.maxTags) {
    problems.push(`${rules.service} allows at most ${rules.maxTags} tags on ${rules.resource ?? 'a certificate'}, got ${tags.length} (${tags.map((t) => t.Key).join(', ')}); `
      + `remove some, or keep stack-wide tags off it with Tags.of(scope).add(key, value, { excludeResourceTypes: ['${rules.resourceType}'] })`);
  }
  for (const { Key: key, Value: value } of tags) {
    const problem = tagProblem(rules, key, value);
    if (problem) {
      problems.push(problem);
    }
  }
  return problems;
}

/** Returns the rule one tag breaks, or undefined. */
export function tagProblem(rules: TagRules, key: string, value: string): string | undefined {
  if (key.length < 1 || key.length > rules.keyMaxLength) {
    return `tag key '${key}' must be 1 to ${rules.keyMaxLength} characters long, got ${key.length}`;
  }
  if (value.length > rules.valueMaxLength) {
    return `the value of tag '${key}' must be at most ${rules.valueMaxLength} characters long, got ${value.length}`;
  }
  for (const [what, text] of [['key', key], ['value', value]] as const) {
    if (rules.reserved && (what === 'key' || rules.reserved.valuesToo) && rules.reserved.pattern.test(text)) {
      return `tag ${what} '${text}' ${rules.reserved.text}`;
    }
    if (rules.characters && !rules.characters.pattern.test(text)) {
      return `tag ${what} '${text}' ${rules.characters.text}`;
    }
  }
  return undefined;
}
