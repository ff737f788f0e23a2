import { createHash } from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

const STACK_PART_MAX = 32;

/**
 * The stack part that begins every generated name in a stack: its name, reduced to ASCII letters,
 * digits and hyphens, so a name says which stack made it. It is not unique (the same stack in two
 * regions, or stacks `Web` and `Web-Staging`): the handler's hash of the stack ID is.
 */
export function stackNamePrefix(scope: IConstruct): string {
  const stackName = Stack.of(scope).stackName;
  const raw = Token.isUnresolved(stackName) ? Stack.of(scope).node.id : stackName;
  return clean(raw.slice(0, STACK_PART_MAX)) || 'stack';
}

/**
 * A deterministic prefix for names the handler completes at deploy with `-<hash>` of the stack ID
 * and the content that forces replacement, so a replacement never collides with the resource it
 * replaces, and the same app in another region, account or stack never asks for the same name.
 *
 * It is `<stack><delimiter><construct id>-<hash of the construct path>`, so it is unique per
 * construct in a stack, begins with a letter (CloudFormation stack names do) and holds only ASCII
 * letters, digits, single hyphens and the delimiter.
 *
 * @param maxLength the service's limit on the whole name
 * @param reservedForSuffix characters kept for `-<content hash>`
 * @param stackDelimiter what follows the stack part. `_` (where the service allows it) never occurs
 * in a stack name, so `<stack>_*` scopes a handler role to this stack's names alone: `Web_*` does
 * not match stack `Web-Staging`'s `Web-Staging_...`, where `Web-*` would.
 */
export function namePrefix(scope: IConstruct, maxLength: number, reservedForSuffix: number, stackDelimiter: '-' | '_' = '-'): string {
  const room = Math.min(64, maxLength - reservedForSuffix);
  const hash = createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8).toUpperCase();
  const stackPart = stackNamePrefix(scope).slice(0, Math.max(1, room - hash.length - 2));
  const idRoom = room - stackPart.length - hash.length - 2;
  const idPart = idRoom > 0 ? clean(scope.node.id).slice(0, idRoom) : '';
  return `${stackPart}${stackDelimiter}${clean([idPart, hash].filter(Boolean).join('-'))}`;
}

function clean(text: string): string {
  return text.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+/g, '-').replace(/^[^a-zA-Z]+/, '').replace(/-$/, '');
}

/** Length of the content hash handlers append to a generated name. */
export const NAME_HASH_LENGTH = 10;
