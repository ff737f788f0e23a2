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
