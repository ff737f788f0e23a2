import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

// Statements shared by principal and purpose, whose resources grow: a stack of hundreds of
// certificates keeps a few statements per action set instead of one per certificate. Each holds at
// most MAX_RESOURCES resources, so that aws-cdk-lib can spread a large policy over managed policies
// (it moves whole statements; IAM caps a managed policy at 6,144 characters).
const MAX_RESOURCES = 20;
const shared = new WeakMap<iam.IPrincipal, Map<string, iam.PolicyStatement>>();

/**
 * Adds `resources` to the principal's statement for `actions`, creating it on first use.
 */
export function addToSharedStatement(grantee: iam.IGrantable, actions: string[], resources: string[]): void {
  const principal = grantee.grantPrincipal;
  let statements = shared.get(principal);
  if (!statements) {
    statements = new Map();
    shared.set(principal, statements);
  }
  const key = [...actions].sort().join(',');
  const known = knownResources(statements, key);
  for (const resource of resources) {
    if (known.has(resource)) {
      continue;
    }
    let statement = statements.get(key);
    if (!statement || statement.frozen || statement.resources.length >= MAX_RESOURCES) {
      statement = new iam.PolicyStatement({ actions });
      statements.set(key, statement);
      principal.addToPrincipalPolicy(statement);
    }
    statement.addResources(resource);
    known.add(resource);
  }
}

const grantedResources = new WeakMap<Map<string, iam.PolicyStatement>, Map<string, Set<string>>>();

/** Every resource already granted for `key`, across its full statements too. */
function knownResources(statements: Map<string, iam.PolicyStatement>, key: string): Set<string> {
  let byKey = grantedResources.get(statements);
  if (!byKey) {
    byKey = new Map();
    grantedResources.set(statements, byKey);
  }
  let set = byKey.get(key);
  if (!set) {
    set = new Set();
    byKey.set(key, set);
  }
  return set;
}

/**
 * Read access to one secret's value (and decryption by its KMS key), through the shared statement.
 */
export function grantSecretValueRead(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  // A secret imported by name has no full ARN: IAM needs the six-character suffix wildcard.
  const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
  addToSharedStatement(grantee, ['secretsmanager:GetSecretValue'], [arn]);
  secret.encryptionKey?.grantDecrypt(grantee);
}
