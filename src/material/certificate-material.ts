import * as fs from 'fs';
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
   * A PEM file read at synth time, relative to the working directory of the CDK app.
   */
  public static fromFile(path: string): CertificatePem {
    if (!fs.existsSync(path)) {
      throw new CertificateInputError('CertificatePem.fromFile', `no file at '${path}'`);
    }
    return new InlineCertificatePem(fs.readFileSync(path, 'utf8'), `the file ${path}`);
  }

  /**
   * A Secrets Manager secret holding the PEM, whole or in one field of its JSON value.
   *
   * The handler is granted read access to this secret only, and reads it at deploy.
   *
   * @param secret the secret
   * @param jsonField the JSON field holding the PEM; omit when the secret string is the PEM itself
   */
  public static fromSecret(secret: secretsmanager.ISecret, jsonField?: string): CertificatePem {
    return new SecretCertificatePem(secret, jsonField);
  }

  /**
   * An SSM String parameter holding the PEM. The handler is granted read access to it only.
   */
  public static fromSsmParameter(parameter: ssm.IParameter): CertificatePem {
    return new SsmCertificatePem(parameter);
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
  constructor(private readonly secret: secretsmanager.ISecret, private readonly jsonField?: string) {
    super();
    this.sourceDescription = describeSecret(secret, jsonField);
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    return bindSecret(scope, this.secret, this.jsonField, grantee);
  }
}

class SsmCertificatePem extends CertificatePem {
  public readonly pemText = undefined;
  public readonly sourceDescription: string;
  constructor(private readonly parameter: ssm.IParameter) {
    super();
    this.sourceDescription = 'an SSM parameter';
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    grantParameterRead(this.parameter, grantee, scope);
    return { kind: 'ssm', parameterName: this.parameter.parameterName, withDecryption: 'false' };
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
   */
  public static fromSecret(secret: secretsmanager.ISecret, jsonField?: string): PrivateKey {
    return new SecretPrivateKey(secret, jsonField);
  }

  /**
   * An SSM SecureString parameter holding the PEM private key.
   *
   * @param parameterName the parameter's name, with or without a leading slash
   * @param encryptionKey the customer managed KMS key that encrypts the parameter
   * @default - the AWS managed key `aws/ssm`, which needs no grant
   */
  public static fromSsmSecureString(parameterName: string, encryptionKey?: kms.IKey): PrivateKey {
    return new SsmPrivateKey(parameterName, encryptionKey);
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
  constructor(private readonly secret: secretsmanager.ISecret, private readonly jsonField?: string) {
    super();
    this.sourceDescription = describeSecret(secret, jsonField);
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    return bindSecret(scope, this.secret, this.jsonField, grantee);
  }
}

class SsmPrivateKey extends PrivateKey {
  public readonly sourceDescription: string;
  constructor(private readonly parameterName: string, private readonly encryptionKey?: kms.IKey) {
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
    return { kind: 'ssm', parameterName: name, withDecryption: 'true' };
  }
}

function bindSecret(scope: Construct, secret: secretsmanager.ISecret, jsonField: string | undefined, grantee: iam.IGrantable): MaterialSource {
  // `scope` waits for the grants: its handler reads the secret as soon as it runs.
  grantSecretValueRead(secret, grantee, scope);
  return jsonField === undefined
    ? { kind: 'secret', secretId: secret.secretArn }
    : { kind: 'secret', secretId: secret.secretArn, jsonField };
}

function describeSecret(secret: secretsmanager.ISecret, jsonField?: string): string {
  const arn = secret.secretArn;
  const name = Token.isUnresolved(arn) ? secret.node.path : Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
  return `the secret ${name}${jsonField ? ` (field ${jsonField})` : ''}`;
}
