import { Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * A deterministic prefix for names the handler completes at deploy with a hash of the content
 * that forces replacement, so a replacement never collides with the resource it replaces.
 *
 * The prefix comes from the construct path (plus a hash of it, so two constructs never share one)
 * and holds only ASCII letters, digits and hyphens, which every service here accepts.
 *
 * @param maxLength the service's limit on the whole name
 * @param reservedForSuffix characters kept for `-<content hash>`
 */
export function namePrefix(scope: Construct, maxLength: number, reservedForSuffix: number): string {
  const prefix = Names.uniqueResourceName(scope, {
    maxLength: Math.min(64, maxLength - reservedForSuffix),
    separator: '-',
    allowedSpecialCharacters: '-',
  });
  // Names must start with a letter for some services (DMS) and never hold '--' (DMS, Lightsail).
  const cleaned = prefix.replace(/-+/g, '-').replace(/^[^a-zA-Z]+/, '').replace(/-$/, '');
  return cleaned.length > 0 ? cleaned : 'cert';
}

/** Length of the content hash handlers append to a generated name. */
export const NAME_HASH_LENGTH = 10;
