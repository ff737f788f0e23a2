/**
 * Tag rules, once, with each service's limits as data: the construct checks the tags `Tags.of()`
 * leaves on a resource at synth, the handler checks the ones that were tokens. No CDK import.
 */
import { joinProblems, joinRules, MAX_QUOTED_LENGTH } from './problems';

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
  /**
   * The handler adds the ownership tags ({@link OWNER_STACK_TAG}, {@link OWNER_LOGICAL_ID_TAG}) to
   * what it creates: they count against `maxTags`, and their keys are the library's own.
   * @default false
   */
  readonly ownershipTags?: boolean;
}

/** The tag naming the stack (its ID: region, account, name and UUID) that created a resource. */
export const OWNER_STACK_TAG = 'cdk-certificates:stack-id';
/** The tag naming the logical ID of the custom resource that created a resource. */
export const OWNER_LOGICAL_ID_TAG = 'cdk-certificates:logical-id';
/** Tag keys only handlers write. */
const LIBRARY_TAG_KEY = /^cdk-certificates:/i;

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
  const ownership = rules.ownershipTags ? 2 : 0;
  if (rules.maxTags !== undefined && tags.length > rules.maxTags - ownership) {
    const room = ownership > 0 ? `${rules.maxTags - ownership} tags (${rules.maxTags} less the ${ownership} ownership tags the library adds)` : `${rules.maxTags} tags`;
    problems.push(`${rules.service} allows at most ${room} on ${rules.resource ?? 'a certificate'}, got ${tags.length} (${tags.map((t) => t.Key).join(', ')}); `
      + `remove some, or keep stack-wide tags off it with Tags.of(scope).add(key, value, { excludeResourceTypes: ['${rules.resourceType}'] })`);
  }
  for (const { Key: key, Value: value } of tags) {
    const problem = joinProblems([
      rules.ownershipTags && LIBRARY_TAG_KEY.test(key)
        ? `tag key '${key}' begins with 'cdk-certificates:', which the handler's ownership tags use; choose another key`
        : undefined,
      tagProblem(rules, key, value),
    ]);
    if (problem) {
      problems.push(problem);
    }
  }
  return problems;
}

/**
 * Returns every rule one tag breaks (its key's and its value's), in one message with the fix, or
 * undefined.
 */
export function tagProblem(rules: TagRules, key: string, value: string): string | undefined {
  const keyRules: string[] = [];
  const valueRules: string[] = [];
  if (key.length < 1 || key.length > rules.keyMaxLength) {
    keyRules.push(`must be 1 to ${rules.keyMaxLength} characters long, got ${key.length}`);
  }
  if (value.length > rules.valueMaxLength) {
    valueRules.push(`must be at most ${rules.valueMaxLength} characters long, got ${value.length}`);
  }
  for (const [text, found, reservedToo] of [[key, keyRules, true], [value, valueRules, rules.reserved?.valuesToo ?? false]] as const) {
    if (rules.reserved && reservedToo && rules.reserved.pattern.test(text)) {
      found.push(rules.reserved.text);
    }
    if (rules.characters && !rules.characters.pattern.test(text)) {
      found.push(rules.characters.text);
    }
  }
  if (keyRules.length === 0 && valueRules.length === 0) {
    return undefined;
  }
  const clauses: string[] = [];
  if (keyRules.length > 0) {
    clauses.push(`tag key '${key}' ${joinRules(keyRules)}`);
  }
  if (valueRules.length > 0) {
    const subject = value.length <= MAX_QUOTED_LENGTH ? `tag value '${value}'` : `the value of tag '${key}'`;
    clauses.push(`${subject} ${joinRules(valueRules)}`);
  }
  return `${joinRules(clauses)}; change the tag where Tags.of(scope).add() sets it, `
    + `or keep it off this resource with Tags.of(scope).add(key, value, { excludeResourceTypes: ['${rules.resourceType}'] })`;
}
