/**
 * Which stack owns what a handler creates, so that a handler never adopts, updates, deletes or
 * revokes what another stack created, and generated names never collide across stacks, regions
 * or accounts.
 *
 * - Every resource a handler creates carries the ownership tags: the owning stack's ID (an ARN
 *   with the region, the account and a UUID, so unique across regions, accounts and stacks that
 *   share a name or a prefix) and the logical ID.
 * - A generated name hashes the stack ID with the content, so the same app deployed in two
 *   regions or as two stacks never asks for the same name (IAM names are global; Lightsail
 *   certificates for distributions all live in us-east-1).
 */
import { InputError } from './errors';
import { log } from './log';
import { contentHash, generatedName, GeneratedNameOptions } from './physical-name';
import { OWNER_LOGICAL_ID_TAG, OWNER_STACK_TAG } from '../../src/contract/tags';

export { OWNER_LOGICAL_ID_TAG, OWNER_STACK_TAG };

/** What identifies the owner in a request. */
export interface Owner {
  readonly StackId: string;
  readonly LogicalResourceId: string;
}

/** A tag as the AWS SDKs give it (either case). */
export type AnyTag = { readonly Key?: string; readonly Value?: string } | { readonly key?: string; readonly value?: string };

/**
 * A tag value that fits the service: the value itself, or `sha256:<hex>` of it when it is longer
 * than the service allows (a stack ID reaches 200 characters; Alibaba KMS takes 128).
 */
function tagValue(value: string, maxLength: number): string {
  return value.length <= maxLength ? value : `sha256:${contentHash(value).slice(0, Math.max(8, Math.min(64, maxLength - 7)))}`;
}

/** The ownership tags of a resource this request creates. */
export function ownerTags(owner: Owner, valueMaxLength = 256): { Key: string; Value: string }[] {
  return [
    { Key: OWNER_STACK_TAG, Value: tagValue(owner.StackId, valueMaxLength) },
    { Key: OWNER_LOGICAL_ID_TAG, Value: tagValue(owner.LogicalResourceId, valueMaxLength) },
  ];
}

/** The tags the user asked for, with the ownership tags (which the user cannot set) added. */
export function withOwnerTags(
  tags: ReadonlyArray<{ Key?: string; Value?: string }>,
  owner: Owner,
  valueMaxLength = 256,
): { Key: string; Value: string }[] {
  return [
    ...tags.filter((t) => !isOwnerTagKey(t.Key ?? '')).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    ...ownerTags(owner, valueMaxLength),
  ];
}

/** Whether `key` is an ownership tag's (the user cannot set one, and a tag reconcile keeps them). */
export function isOwnerTagKey(key: string): boolean {
  return key === OWNER_STACK_TAG || key === OWNER_LOGICAL_ID_TAG;
}

/**
 * Who owns a resource, from its tags: `this` (same stack and logical ID), `sibling` (this stack,
 * another logical ID), `other` (another stack, named), or `unknown` (no ownership tags: created
 * outside the library, or by a version before ownership tags).
 */
export type Ownership =
  | { readonly kind: 'this' }
  | { readonly kind: 'sibling'; readonly logicalId: string }
  | { readonly kind: 'other'; readonly stackId: string }
  | { readonly kind: 'unknown' };

export function ownershipOf(tags: Iterable<AnyTag> | undefined, owner: Owner): Ownership {
  const values = new Map<string, string>();
  for (const tag of tags ?? []) {
    const key = 'Key' in tag ? tag.Key : 'key' in tag ? tag.key : undefined;
    const value = 'Value' in tag ? tag.Value : 'value' in tag ? tag.value : undefined;
    if (key !== undefined) {
      values.set(key, value ?? '');
    }
  }
  const stackId = values.get(OWNER_STACK_TAG);
  if (stackId === undefined) {
    return { kind: 'unknown' };
  }
  // A tag value is either the ID itself or its hash (services with short tag values).
  const same = (tag: string, id: string) => tag === id || (tag.startsWith('sha256:') && tag.length > 15 && contentHash(id).startsWith(tag.slice(7)));
  if (!same(stackId, owner.StackId)) {
    return { kind: 'other', stackId };
  }
  const logicalId = values.get(OWNER_LOGICAL_ID_TAG) ?? '';
  return same(logicalId, owner.LogicalResourceId) ? { kind: 'this' } : { kind: 'sibling', logicalId };
}

/** The stack's name inside a stack ID, for messages. */
export function stackName(stackId: string): string {
  return /:stack\/([^/]+)\//.exec(stackId)?.[1] ?? stackId;
}

/**
 * Refuses to adopt (on a retried create) a resource this resource did not create. `what` names
 * the resource, `property` the construct property that chose its name.
 */
export function assertAdoptable(ownership: Ownership, what: string, property: string): void {
  switch (ownership.kind) {
    case 'this':
      return;
    case 'other':
      throw new InputError(property,
        `${what} already exists and belongs to stack ${stackName(ownership.stackId)} (${ownership.stackId}); `
        + 'a handler never adopts what another stack owns: choose another name, or omit it to have one generated');
    case 'sibling':
      throw new InputError(property,
        `${what} already exists and belongs to ${ownership.logicalId}, another resource of this stack; choose another name, or omit it to have one generated`);
    default:
      throw new InputError(property,
        `${what} already exists and was not created by this stack (it has no ${OWNER_STACK_TAG} tag); `
        + 'choose another name, or omit it to have one generated; to adopt it, delete it or tag it yourself first');
  }
}

/**
 * Refuses to update a resource another stack owns. `unknown` passes: CloudFormation named it as
 * this resource's physical ID, and resources created before ownership tags have none.
 */
export function assertUpdatable(ownership: Ownership, what: string): void {
  if (ownership.kind === 'other') {
    throw new Error(`${what} belongs to stack ${stackName(ownership.stackId)} (${ownership.stackId}), not to this one; `
      + 'the handler will not change it: remove it from this stack, or give this resource a new name');
  }
  if (ownership.kind === 'sibling') {
    throw new Error(`${what} belongs to ${ownership.logicalId}, another resource of this stack; the handler will not change it through this one`);
  }
}

/**
 * Whether a delete may go on: not for a resource another stack (or another resource) owns, which
 * is left in place with a warning so that deleting one stack never breaks another.
 */
export function mayDelete(ownership: Ownership, what: string): boolean {
  if (ownership.kind === 'other' || ownership.kind === 'sibling') {
    log('warn', 'not deleting: owned by another stack or resource', {
      resource: what,
      owner: ownership.kind === 'other' ? ownership.stackId : ownership.logicalId,
    });
    return false;
  }
  return true;
}

/**
 * A generated name unique per account, region and stack: `prefix-<hash>`, the hash covering the
 * stack ID as well as the content that forces a new name.
 */
export function ownedName(owner: Owner, prefix: string, contentParts: readonly string[], options: GeneratedNameOptions): string {
  return generatedName(prefix, contentHash(owner.StackId, ...contentParts), options);
}
