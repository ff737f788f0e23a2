import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

// One statement per principal and purpose, whose resources grow: a stack of hundreds of
// certificates keeps one statement per action set instead of one per certificate, so the handler
// role's policy stays within IAM's size limits and synth stays linear.
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
  let statement = statements.get(key);
  if (!statement) {
    statement = new iam.PolicyStatement({ actions });
    statements.set(key, statement);
    principal.addToPrincipalPolicy(statement);
  }
  const known = new Set(statement.resources);
  const added = resources.filter(r => !known.has(r));
  if (added.length > 0) {
    statement.addResources(...added);
  }
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
