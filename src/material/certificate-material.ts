import * as fs from 'fs';
import * as nodePath from 'path';
import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { MaterialSource } from '../contract/material-source';
import { CertificateInputError } from '../private/errors';
import { addToSharedStatement, grantKeyDecrypt, grantParameterRead, grantSecretValueRead } from '../private/grants';

/**
 * The version of a Secrets Manager secret to read.
 *
 * Pin a version to rotate material kept in a secret: the pin is part of the consumer's properties,
 * so changing it makes CloudFormation update the consumer, which uploads the new material under a
 * new name, hands the new ARN to whatever uses it, and lets the stack's cleanup remove the old one.
 * Without a pin the consumer reads AWSCURRENT at its next create or update, and a new secret value
 * alone changes nothing in the stack.
 */
export interface SecretVersion {
  /**
   * The secret version's ID (the `VersionId` Secrets Manager returns, or the
   * `ClientRequestToken` given when the value was written).
   *
   * @default - no version ID: `versionStage`, or AWSCURRENT
   */
  readonly versionId?: string;

  /**
   * A staging label, e.g. `AWSCURRENT`, `AWSPREVIOUS` or a label of your own. A label can move to
   * another version without any change in the stack: prefer `versionId` for rotation.
   *
   * @default - no staging label: `versionId`, or AWSCURRENT
   */
  readonly versionStage?: string;
}

/**
 * Where a certificate (or a chain of certificates) in PEM form comes from.
 *
 * Every construct of this library accepts any source: a string known at synth, a file, a
 * Secrets Manager secret, an SSM parameter, or the output of another construct (a `PrivateCa`'s
 * certificate, an issued certificate). When the PEM is known at synth it is checked at synth;
 * otherwise the handler checks it at deploy.
 */
export abstract class CertificatePem {
  /**
   * A PEM string: a literal (checked at synth) or a token such as another resource's attribute
   * (checked by the handler at deploy).
   *
   * A certificate is public, so it travels in the template; never pass a private key here.
   */
  public static fromString(pem: string): CertificatePem {
    return new InlineCertificatePem(pem, Token.isUnresolved(pem) ? 'a PEM token' : 'a PEM string');
  }

  /**
   * A PEM file read at synth time. A relative path is resolved against the working directory of
   * the CDK app (`process.cwd()`, where the `cdk` CLI runs it: the folder of `cdk.json`).
   */
  public static fromFile(path: string): CertificatePem {
    // A static factory cannot know the construct property it is given to: the error names the
    // factory, the absolute path it tried and the directory a relative path was resolved against.
    if (Token.isUnresolved(path)) {
      throw new CertificateInputError('CertificatePem.fromFile', 'the path must be known at synth, not a token; to read a PEM at deploy use CertificatePem.fromSecret or fromSsmParameter');
    }
    const absolute = nodePath.resolve(path);
    const tried = nodePath.isAbsolute(path)
      ? `'${absolute}'`
      : `'${absolute}' ('${path}' resolved against the CDK app's working directory ${process.cwd()})`;
    const fix = 'give a path relative to the directory the CDK app runs in (the folder of cdk.json for the cdk CLI), '
      + "or an absolute one such as path.join(__dirname, 'certs', 'www.pem')";
    if (!fs.existsSync(absolute)) {
      throw new CertificateInputError('CertificatePem.fromFile', `no file at ${tried}; ${fix}`);
    }
    if (!fs.statSync(absolute).isFile()) {
      throw new CertificateInputError('CertificatePem.fromFile', `${tried} is not a file; ${fix}, naming the PEM file itself`);
    }
    return new InlineCertificatePem(fs.readFileSync(absolute, 'utf8'), `the file ${path}`);
  }

  /**
   * A Secrets Manager secret holding the PEM, whole or in one field of its JSON value.
   *
   * The handler is granted read access to this secret only, and reads it at deploy. To rotate,
   * pin a `version` and change the pin (see `SecretVersion`).
   *
   * @param secret the secret
   * @param jsonField the JSON field holding the PEM; omit when the secret string is the PEM itself
   * @param version the version to read
   * @default - version: AWSCURRENT, read at each create or update of the consumer
   */
  public static fromSecret(secret: secretsmanager.ISecret, jsonField?: string, version?: SecretVersion): CertificatePem {
    return new SecretCertificatePem(secret, jsonField, checkSecretVersion('CertificatePem.fromSecret', version));
  }

  /**
   * An SSM String parameter holding the PEM. The handler is granted read access to it only.
   *
   * @param parameter the parameter
   * @param version the parameter version to read; changing it updates the consumer (rotation)
   * @default - version: the latest, read at each create or update of the consumer
   */
  public static fromSsmParameter(parameter: ssm.IParameter, version?: number): CertificatePem {
    return new SsmCertificatePem(parameter, checkParameterVersion('CertificatePem.fromSsmParameter', version));
  }

  /**
   * The PEM text when it is known at synth time; undefined for secrets, parameters and tokens.
   */
  public abstract readonly pemText?: string;

  /**
   * Where the PEM comes from, for messages.
   */
  public abstract readonly sourceDescription: string;

  /**
   * Grant `grantee` read access to the PEM and return the reference the handler resolves.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource;
}

class InlineCertificatePem extends CertificatePem {
  public readonly pemText?: string;
  constructor(private readonly value: string, public readonly sourceDescription: string) {
    super();
    this.pemText = Token.isUnresolved(value) ? undefined : value;
  }

  public _bind(): MaterialSource {
    return { kind: 'inline', value: this.value };
  }
}

class SecretCertificatePem extends CertificatePem {
  public readonly pemText = undefined;
  public readonly sourceDescription: string;
  constructor(private readonly secret: secretsmanager.ISecret, private readonly jsonField?: string, private readonly version?: SecretVersion) {
    super();
    this.sourceDescription = describeSecret(secret, jsonField, version);
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    return bindSecret(scope, this.secret, this.jsonField, grantee, this.version);
  }
}

class SsmCertificatePem extends CertificatePem {
  public readonly pemText = undefined;
  public readonly sourceDescription: string;
  constructor(private readonly parameter: ssm.IParameter, private readonly version?: string) {
    super();
    this.sourceDescription = `an SSM parameter${version ? ` (version ${version})` : ''}`;
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    grantParameterRead(this.parameter, grantee, scope);
    return withVersion({ kind: 'ssm', parameterName: this.parameter.parameterName, withDecryption: 'false' }, this.version);
  }
}

/**
 * Where a private key in PEM form comes from.
 *
 * A private key is never placed in a template: only the secret's ARN or the parameter's name is,
 * and the handler reads the key at deploy with the read access the construct grants it.
 */
export abstract class PrivateKey {
  /**
   * A Secrets Manager secret holding the PEM private key, whole or in one field of its JSON value.
   *
   * @param secret the secret (its KMS key, if any, is granted too)
   * @param jsonField the JSON field holding the key; omit when the secret string is the key itself
   * @param version the version to read; pin it and change the pin to rotate (see `SecretVersion`)
   * @default - version: AWSCURRENT, read at each create or update of the consumer
   */
  public static fromSecret(secret: secretsmanager.ISecret, jsonField?: string, version?: SecretVersion): PrivateKey {
    return new SecretPrivateKey(secret, jsonField, checkSecretVersion('PrivateKey.fromSecret', version));
  }

  /**
   * An SSM SecureString parameter holding the PEM private key.
   *
   * @param parameterName the parameter's name, with or without a leading slash
   * @param encryptionKey the customer managed KMS key that encrypts the parameter
   * @param version the parameter version to read; changing it updates the consumer (rotation)
   * @default - encryptionKey: the AWS managed key `aws/ssm`, which needs no grant; version: the latest
   */
  public static fromSsmSecureString(parameterName: string, encryptionKey?: kms.IKey, version?: number): PrivateKey {
    return new SsmPrivateKey(parameterName, encryptionKey, checkParameterVersion('PrivateKey.fromSsmSecureString', version));
  }

  /**
   * Where the key comes from, for messages (never the key itself).
   */
  public abstract readonly sourceDescription: string;

  /**
   * Grant `grantee` read access to the key and return the reference the handler resolves.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource;
}

class SecretPrivateKey extends PrivateKey {
  public readonly sourceDescription: string;
  constructor(private readonly secret: secretsmanager.ISecret, private readonly jsonField?: string, private readonly version?: SecretVersion) {
    super();
    this.sourceDescription = describeSecret(secret, jsonField, version);
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    return bindSecret(scope, this.secret, this.jsonField, grantee, this.version);
  }
}

class SsmPrivateKey extends PrivateKey {
  public readonly sourceDescription: string;
  constructor(private readonly parameterName: string, private readonly encryptionKey?: kms.IKey, private readonly version?: string) {
    super();
    if (!Token.isUnresolved(parameterName) && !/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(parameterName)) {
      throw new CertificateInputError('PrivateKey.fromSsmSecureString',
        `parameterName '${parameterName}' may hold only letters, digits and _.-/ (1 to 2048 characters)`);
    }
    this.sourceDescription = `the SSM SecureString parameter ${Token.isUnresolved(parameterName) ? '(token)' : parameterName}`;
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    const name = this.parameterName;
    const resourceName = Token.isUnresolved(name) || !name.startsWith('/') ? name : name.slice(1);
    addToSharedStatement(grantee, ['ssm:GetParameter'], [
      Stack.of(scope).formatArn({
        service: 'ssm',
        resource: 'parameter',
        resourceName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ], scope);
    grantKeyDecrypt(this.encryptionKey, grantee, scope);
    return withVersion({ kind: 'ssm', parameterName: name, withDecryption: 'true' }, this.version);
  }
}

function bindSecret(
  scope: Construct,
  secret: secretsmanager.ISecret,
  jsonField: string | undefined,
  grantee: iam.IGrantable,
  version: SecretVersion | undefined,
): MaterialSource {
  // `scope` waits for the grants: its handler reads the secret as soon as it runs.
  grantSecretValueRead(secret, grantee, scope);
  // Absent members stay out of the template (an undefined member would render nothing anyway).
  return {
    kind: 'secret',
    secretId: secret.secretArn,
    ...(jsonField === undefined ? {} : { jsonField }),
    ...(version?.versionId === undefined ? {} : { versionId: version.versionId }),
    ...(version?.versionStage === undefined ? {} : { versionStage: version.versionStage }),
  };
}

function withVersion<T extends MaterialSource>(source: T, version: string | undefined): T {
  return version === undefined ? source : { ...source, version };
}

function describeSecret(secret: secretsmanager.ISecret, jsonField?: string, version?: SecretVersion): string {
  const arn = secret.secretArn;
  const name = Token.isUnresolved(arn) ? secret.node.path : Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
  const pin = version?.versionId !== undefined && !Token.isUnresolved(version.versionId) ? `, version ${version.versionId}`
    : version?.versionStage !== undefined && !Token.isUnresolved(version.versionStage) ? `, stage ${version.versionStage}` : '';
  return `the secret ${name}${jsonField ? ` (field ${jsonField}${pin})` : pin ? ` (${pin.slice(2)})` : ''}`;
}

// Secrets Manager's limits: VersionId 32 to 64 characters, VersionStage 1 to 256.
function checkSecretVersion(where: string, version: SecretVersion | undefined): SecretVersion | undefined {
  if (version === undefined) {
    return undefined;
  }
  const problems: string[] = [];
  const { versionId, versionStage } = version;
  if (versionId !== undefined && versionStage !== undefined) {
    problems.push('give versionId or versionStage, not both');
  }
  if (versionId !== undefined && !Token.isUnresolved(versionId) && (versionId.length < 32 || versionId.length > 64)) {
    problems.push(`versionId must be 32 to 64 characters (Secrets Manager's VersionId), got ${versionId.length}`);
  }
  if (versionStage !== undefined && !Token.isUnresolved(versionStage) && (versionStage.length < 1 || versionStage.length > 256)) {
    problems.push(`versionStage must be 1 to 256 characters, got ${versionStage.length}`);
  }
  if (problems.length > 0) {
    throw new CertificateInputError(`${where} version`, `${problems.join('; ')}; pin the VersionId Secrets Manager reports for the value to use`);
  }
  return version;
}

function checkParameterVersion(where: string, version: number | undefined): string | undefined {
  if (version === undefined) {
    return undefined;
  }
  if (!Token.isUnresolved(version) && (!Number.isInteger(version) || version < 1)) {
    throw new CertificateInputError(`${where} version`,
      `must be a positive integer (an SSM parameter version), got ${version}; pin the version SSM reports for the value to use`);
  }
  return Token.isUnresolved(version) ? Token.asString(version) : String(version);
}
