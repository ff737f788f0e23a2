import { createHash } from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

const STACK_PART_MAX = 32;

/**
 * The stack part that begins every generated name in a stack: its name, reduced to ASCII letters,
 * digits and hyphens. Handler roles are scoped to names that begin with it.
 */
export function stackNamePrefix(scope: IConstruct): string {
  const stackName = Stack.of(scope).stackName;
  const raw = Token.isUnresolved(stackName) ? Stack.of(scope).node.id : stackName;
  return clean(raw.slice(0, STACK_PART_MAX)) || 'stack';
}

/**
 * A deterministic prefix for names the handler completes at deploy with a hash of the content
 * that forces replacement, so a replacement never collides with the resource it replaces.
 *
 * It is `<stack>-<construct id>-<hash of the construct path>`, so it is unique per construct,
 * begins with a letter (CloudFormation stack names do), holds only ASCII letters, digits and
 * single hyphens, and lets a handler role be scoped to the stack's own names.
 *
 * @param maxLength the service's limit on the whole name
 * @param reservedForSuffix characters kept for `-<content hash>`
 */
export function namePrefix(scope: IConstruct, maxLength: number, reservedForSuffix: number): string {
  const room = Math.min(64, maxLength - reservedForSuffix);
  const hash = createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8).toUpperCase();
  const stackPart = stackNamePrefix(scope).slice(0, Math.max(1, room - hash.length - 2));
  const idRoom = room - stackPart.length - hash.length - 2;
  const idPart = idRoom > 0 ? clean(scope.node.id).slice(0, idRoom) : '';
  return clean([stackPart, idPart, hash].filter(Boolean).join('-'));
}

function clean(text: string): string {
  return text.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+/g, '-').replace(/^[^a-zA-Z]+/, '').replace(/-$/, '');
}

/** Length of the content hash handlers append to a generated name. */
export const NAME_HASH_LENGTH = 10;
