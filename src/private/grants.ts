import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct, IDependable } from 'constructs';
import { OWNER_STACK_TAG } from '../contract/tags';

// Statements shared by principal and purpose, whose resources grow: a stack of hundreds of
// certificates keeps a few statements per action set instead of one per certificate. Each holds at
// most MAX_RESOURCES resources, so that aws-cdk-lib can spread a large policy over managed policies
// (it moves whole statements; IAM caps a managed policy at 6,144 characters).
const MAX_RESOURCES = 20;
const shared = new WeakMap<iam.IPrincipal, Map<string, iam.PolicyStatement>>();

/** How a shared statement is keyed and sized. */
export interface SharedStatementOptions {
  /** Conditions of the statement (statements with other conditions are not shared). @default none */
  readonly conditions?: { [operator: string]: unknown };
  /** Resources per statement. @default 20 */
  readonly maxResources?: number;
}

/**
 * Adds `resources` to the principal's statement for `actions` (and `conditions`), creating it on
 * first use. A resource already granted is not added again.
 *
 * `dependent` (the construct whose custom resource needs the grant) is made to depend on the very
 * policy that ends up holding each statement: the role's default policy, or the overflow managed
 * policy aws-cdk-lib moves it to in a large stack. One dependency each, however large the stack.
 */
export function addToSharedStatement(
  grantee: iam.IGrantable,
  actions: string[],
  resources: string[],
  dependent?: IConstruct,
  options: SharedStatementOptions = {},
): void {
  const principal = grantee.grantPrincipal;
  let statements = shared.get(principal);
  if (!statements) {
    statements = new Map();
    shared.set(principal, statements);
  }
  const key = [...actions].sort().join(',') + (options.conditions ? ` ${JSON.stringify(options.conditions)}` : '');
  const max = options.maxResources ?? MAX_RESOURCES;
  const known = knownResources(statements, key);
  for (const resource of resources) {
    let dependable = known.get(resource);
    if (dependable === undefined) {
      let statement = statements.get(key);
      if (!statement || statement.frozen || statement.resources.length >= max) {
        statement = new iam.PolicyStatement({ actions, conditions: options.conditions });
        statements.set(key, statement);
        policies.set(statement, principal.addToPrincipalPolicy(statement).policyDependable);
      }
      statement.addResources(resource);
      dependable = policies.get(statement);
      known.set(resource, dependable);
    }
    if (dependent && dependable) {
      dependent.node.addDependency(dependable);
    }
  }
}

/**
 * Adds one statement of the grantee's own (identical statements merge in the policy document).
 * Every grant the library makes goes through this file.
 */
export function grantStatement(grantee: iam.IGrantable, statement: iam.PolicyStatement): void {
  grantee.grantPrincipal.addToPrincipalPolicy(statement);
}

/** The policy each shared statement lives in (filled in by aws-cdk-lib when it splits a policy). */
const policies = new WeakMap<iam.PolicyStatement, IDependable | undefined>();

const grantedResources = new WeakMap<Map<string, iam.PolicyStatement>, Map<string, Map<string, IDependable | undefined>>>();

/** Every resource already granted for `key` (across its full statements too), with its policy. */
function knownResources(statements: Map<string, iam.PolicyStatement>, key: string): Map<string, IDependable | undefined> {
  let byKey = grantedResources.get(statements);
  if (!byKey) {
    byKey = new Map();
    grantedResources.set(statements, byKey);
  }
  let known = byKey.get(key);
  if (!known) {
    known = new Map();
    byKey.set(key, known);
  }
  return known;
}

/**
 * Read access to one secret's value (and decryption by its KMS key), through the shared statement.
 */
export function grantSecretValueRead(secret: secretsmanager.ISecret, grantee: iam.IGrantable, dependent?: IConstruct): void {
  // A secret imported by name has no full ARN: IAM needs the six-character suffix wildcard.
  const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
  addToSharedStatement(grantee, ['secretsmanager:GetSecretValue'], [arn], dependent);
  grantKeyDecrypt(secret.encryptionKey, grantee, dependent);
}

/** Decryption by a KMS key (when there is one), through the key's own grant (policy or principal). */
export function grantKeyDecrypt(key: kms.IKey | undefined, grantee: iam.IGrantable, dependent?: IConstruct): void {
  const grant = key?.grantDecrypt(grantee);
  if (dependent) {
    grant?.applyBefore(dependent);
  }
}

/** Read access to one SSM parameter (aws-cdk-lib's grantRead), before `dependent` runs. */
export function grantParameterRead(parameter: ssm.IParameter, grantee: iam.IGrantable, dependent: IConstruct): void {
  parameter.grantRead(grantee).applyBefore(dependent);
}

/** `s3:GetObject` on one object (not a bucket-wide read), and decryption by the bucket's key. */
export function grantObjectRead(grantee: iam.IGrantable, objectArn: string, encryptionKey?: kms.IKey): void {
  grantStatement(grantee, new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objectArn] }));
  grantKeyDecrypt(encryptionKey, grantee);
}

/**
 * The condition that limits a statement to resources this stack owns: their ownership tag (set by
 * the construct on native resources, by the handler on what it creates) names this stack's ID.
 * Used where the service supports `aws:ResourceTag` and exact names cannot be known in advance
 * (a replaced CA, a generated name).
 */
export function ownedByStack(): { StringEquals: Record<string, string> } {
  return { StringEquals: { [`aws:ResourceTag/${OWNER_STACK_TAG}`]: Aws.STACK_ID } };
}
