/**
 * Where a handler reads certificate material from at deploy time.
 *
 * Shared with the handlers by `import type`; every value is a string because CloudFormation
 * passes custom-resource properties as strings. A private key is never `inline`.
 */
export type MaterialSource =
  | InlineMaterialSource
  | SecretMaterialSource
  | SsmMaterialSource
  | S3MaterialSource;

/** Public PEM text carried in the template (certificates and chains only). */
export interface InlineMaterialSource {
  readonly kind: 'inline';
  readonly value: string;
}

/** A Secrets Manager secret, whole or one field of its JSON. */
export interface SecretMaterialSource {
  readonly kind: 'secret';
  /** Secret ARN (or name). */
  readonly secretId: string;
  /** JSON field to take; absent means the whole SecretString. */
  readonly jsonField?: string;
  /**
   * The version to read (GetSecretValue VersionId). A pin makes the consumer's properties change
   * exactly when the material does, so CloudFormation updates the consumer. Absent: AWSCURRENT.
   */
  readonly versionId?: string;
  /** The staging label to read (GetSecretValue VersionStage); absent: AWSCURRENT. */
  readonly versionStage?: string;
}

/** An SSM parameter (String, or SecureString read with decryption). */
export interface SsmMaterialSource {
  readonly kind: 'ssm';
  readonly parameterName: string;
  /** 'true' for SecureString parameters. */
  readonly withDecryption: 'true' | 'false';
  /** The parameter version to read (`name:version`), a positive integer; absent: the latest. */
  readonly version?: string;
}

/** An S3 object read as bytes (Oracle wallets). */
export interface S3MaterialSource {
  readonly kind: 's3';
  readonly bucket: string;
  readonly key: string;
}
