import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A synth-time input error: one message naming the construct, the property and the rule broken.
 * (aws-cdk-lib's ValidationError is internal to aws-cdk-lib, so the library has its own.)
 */
export class CertificateInputError extends Error {
  constructor(
    public readonly property: string,
    public readonly rule: string,
    scope?: IConstruct,
  ) {
    super(`${scope ? `[${scope.node.path}] ` : ''}${property}: ${rule}`);
    this.name = 'ValidationError';
  }
}

/**
 * An attribute an importer was not given: its value, or one error naming it and why to pass it.
 * Importers read it lazily, so an import that never uses the attribute needs none.
 */
export function importedAttribute(value: string | undefined, property: string, importer: string, why: string, scope: IConstruct): string {
  if (value === undefined) {
    throw new CertificateInputError(property, `was not given to ${importer}; ${why}`, scope);
  }
  return value;
}

/**
 * Applies a rule to a value known at synth (`problem` returns the rule broken, or undefined);
 * a token or an absent value is left to the handler, which checks it at deploy.
 */
export function checkWhenKnown<T extends string | number>(
  scope: IConstruct,
  property: string,
  value: T | undefined,
  problem: (value: T) => string | undefined,
): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  const rule = problem(value);
  if (rule) {
    throw new CertificateInputError(property, rule, scope);
  }
}
