/**
 * What `cdk-certificates check` cannot check: every certificate of the app whose PEM is known
 * only at deploy, found in the stacks' templates, with where it comes from.
 *
 * The certificate manifest records only certificates whose PEM the app knew at synth. The rest are
 * in the templates: a property of this library's resources that reads a secret, an SSM parameter,
 * an S3 object or another resource's attribute (the material sources of src/contract/material-source.ts),
 * a CloudFormation dynamic reference, or a certificate that a resource creates at deploy (a CA
 * certificate, an issued certificate, a Lightsail certificate). Reading the templates, rather than a
 * record written at synth, also covers assemblies synthesized by earlier versions of the library.
 *
 * Node built-ins only, like the rest of the CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssemblyStack, ManifestReadError } from '../../contract/manifest';

/**
 * The resource types this module reads (the contract's `XXX_RESOURCE_TYPE` values, repeated here
 * so the CLI bundle does not carry the contract's rules; a test keeps them equal).
 */
export const RESOURCE_TYPES = {
  serverCertificate: 'Custom::ServerCertificate',
  dmsCertificate: 'Custom::DmsCertificate',
  alibabaKmsCertificate: 'Custom::AlibabaKmsCertificate',
  issuedCertificate: 'Custom::PrivateCaIssuedCertificate',
  lightsailCertificate: 'Custom::LightsailCertificate',
  pcaCertificate: 'AWS::ACMPCA::Certificate',
  pcaActivation: 'AWS::ACMPCA::CertificateAuthorityActivation',
  secret: 'AWS::SecretsManager::Secret',
  ssmParameter: 'AWS::SSM::Parameter',
} as const;

/** The certificate-material properties of each resource type, with their construct property names. */
const MATERIAL_PROPERTIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [RESOURCE_TYPES.serverCertificate]: { CertificateBody: 'certificateBody', CertificateChain: 'certificateChain' },
  [RESOURCE_TYPES.dmsCertificate]: { CertificatePem: 'certificatePem', CertificateWallet: 'certificateWallet' },
  [RESOURCE_TYPES.alibabaKmsCertificate]: { Certificate: 'certificate', CertificateChain: 'certificateChain' },
  [RESOURCE_TYPES.pcaActivation]: { Certificate: 'certificate', CertificateChain: 'certificateChain' },
};

/**
 * Where the PEM of an unchecked certificate comes from:
 * - `secret`: a Secrets Manager secret;
 * - `ssm-parameter`: an SSM parameter;
 * - `s3-object`: an S3 object (an Oracle wallet);
 * - `ca-certificate`: a CA certificate ACM Private CA issues at deploy;
 * - `issued-certificate`: a certificate a private CA issues at deploy;
 * - `lightsail-certificate`: a certificate Lightsail issues (and renews) at deploy;
 * - `deploy-time-value`: any other value resolved at deploy (an attribute, an import, a parameter).
 */
export type SourceKind =
  | 'secret'
  | 'ssm-parameter'
  | 's3-object'
  | 'ca-certificate'
  | 'issued-certificate'
  | 'lightsail-certificate'
  | 'deploy-time-value';

/** A certificate of the app that the check cannot see, because its PEM is known only at deploy. */
export interface UncheckedCertificate {
  /** The assembly directory holding the stack. */
  readonly assembly: string;
  /** The stack's display name (its construct path). */
  readonly stack: string;
  /** Path of the construct, e.g. `Prod/Certificates/Web`. */
  readonly constructPath: string;
  /** The construct property that holds the certificate, or the attribute of a created one (`certificatePem`). */
  readonly property: string;
  /** The CloudFormation resource that takes or creates the certificate. */
  readonly logicalId: string;
  readonly resourceType: string;
  /** What kind of source provides the PEM. */
  readonly source: SourceKind;
  /** Where the PEM comes from, in words, e.g. `the secret tls/web (field certificate)`. */
  readonly from: string;
}

interface Template {
  readonly Resources?: Record<string, { Type?: unknown; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
  readonly Parameters?: Record<string, { Type?: unknown; Default?: unknown }>;
}

interface Origin {
  readonly source: SourceKind;
  readonly from: string;
}

/** Every unchecked certificate of the stacks, in stack and template order. */
export function uncheckedCertificates(stacks: AssemblyStack[]): UncheckedCertificate[] {
  const found: UncheckedCertificate[] = [];
  for (const stack of stacks) {
    if (stack.templateFile === undefined) continue;
    const template = readTemplate(path.join(stack.assemblyDirectory, stack.templateFile));
    const reader = new TemplateReader(stack, template);
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      const type = typeof resource?.Type === 'string' ? resource.Type : '';
      for (const item of reader.unchecked(logicalId, type, resource?.Properties ?? {})) {
        found.push({
          assembly: stack.assemblyDirectory,
          stack: stack.displayName,
          constructPath: item.constructPath,
          property: item.property,
          logicalId,
          resourceType: type,
          source: item.origin.source,
          from: item.origin.from,
        });
      }
    }
  }
  return found;
}

function readTemplate(file: string): Template {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestReadError(`cannot read the template ${file}${code ? ` (${code})` : ''}`);
  }
  try {
    const template = JSON.parse(text) as unknown;
    return isObject(template) ? template as Template : {};
  } catch {
    throw new ManifestReadError(`${file} is not valid JSON`);
  }
}

class TemplateReader {
  constructor(private readonly stack: AssemblyStack, private readonly template: Template) {}

  /** The unchecked certificates one resource takes or creates. */
  public unchecked(logicalId: string, type: string, properties: Record<string, unknown>):
  Array<{ constructPath: string; property: string; origin: Origin }> {
    const constructPath = this.constructPathOf(logicalId);
    switch (type) {
      case RESOURCE_TYPES.pcaCertificate:
        return [this.createdByPca(logicalId, properties)];
      case RESOURCE_TYPES.issuedCertificate:
        return [{
          constructPath,
          property: 'certificatePem',
          origin: { source: 'issued-certificate', from: `issued at deploy by ${this.describeCa(properties.CertificateAuthorityArn)}` },
        }];
      case RESOURCE_TYPES.lightsailCertificate:
        return [{
          constructPath,
          property: 'certificate',
          origin: { source: 'lightsail-certificate', from: 'issued at deploy (and renewed) by Lightsail' },
        }];
      case RESOURCE_TYPES.alibabaKmsCertificate:
        if (properties.Mode === 'create') {
          return [{
            constructPath,
            property: 'certificate',
            origin: { source: 'issued-certificate', from: `issued at deploy by ${this.describeCa(properties.CertificateAuthorityArn)}` },
          }];
        }
        break;
      default:
        break;
    }
    const materialProperties = MATERIAL_PROPERTIES[type];
    if (!materialProperties) return [];
    const result: Array<{ constructPath: string; property: string; origin: Origin }> = [];
    for (const [cfnName, property] of Object.entries(materialProperties)) {
      const value = properties[cfnName];
      if (value === undefined) continue;
      const origin = type === RESOURCE_TYPES.pcaActivation ? this.activationOrigin(value) : this.materialOrigin(value);
      if (origin) {
        result.push({ constructPath, property, origin });
      }
    }
    return result;
  }

  /** An AWS::ACMPCA::Certificate: a CA's own certificate, or one issued from a CSR. */
  private createdByPca(logicalId: string, properties: Record<string, unknown>): { constructPath: string; property: string; origin: Origin } {
    const constructPath = this.constructPathOf(logicalId);
    const isCaCertificate = /CACertificate/.test(JSON.stringify(properties.TemplateArn ?? ''));
    if (isCaCertificate) {
      const ca = constructPath.replace(/\/CaCertificate$/, '');
      return { constructPath: ca, property: 'certificatePem', origin: { source: 'ca-certificate', from: 'the CA certificate, issued at deploy by ACM Private CA' } };
    }
    return {
      constructPath,
      property: 'certificatePem',
      origin: { source: 'issued-certificate', from: `issued at deploy from a CSR by ${this.describeCa(properties.CertificateAuthorityArn)}` },
    };
  }

  /**
   * A certificate of an ACM Private CA activation. A literal PEM was checked at synth. A CA
   * certificate of this app (an `AWS::ACMPCA::Certificate` attribute, or another stack's export of
   * one) is reported where it is created. A dynamic reference reads a secret or an SSM parameter.
   */
  private activationOrigin(value: unknown): Origin | undefined {
    const text = JSON.stringify(value);
    const secret = /\{\{resolve:secretsmanager:([^}]*?):SecretString:([^:}]*)/.exec(text);
    if (secret) {
      return { source: 'secret', from: `the secret ${secretNameFromId(secret[1]) ?? '(token)'}${secret[2] ? ` (field ${secret[2]})` : ''}` };
    }
    const ssm = /\{\{resolve:ssm:([^}:]*)/.exec(text);
    if (ssm) {
      return { source: 'ssm-parameter', from: `the SSM parameter ${ssm[1] || '(token)'}` };
    }
    if (typeof value === 'string' || this.resourceOf(value, RESOURCE_TYPES.pcaCertificate) || (isObject(value) && 'Fn::ImportValue' in value)) {
      return undefined;
    }
    return this.valueOrigin(value);
  }

  /** A material source of a custom resource (see src/contract/material-source.ts). */
  private materialOrigin(value: unknown): Origin | undefined {
    if (!isObject(value)) return undefined;
    switch (value.kind) {
      case 'inline':
        return typeof value.value === 'string' ? undefined : this.valueOrigin(value.value);
      case 'secret': {
        const field = typeof value.jsonField === 'string' ? value.jsonField : undefined;
        const pin = typeof value.versionId === 'string' ? `, version ${value.versionId}`
          : typeof value.versionStage === 'string' ? `, stage ${value.versionStage}` : '';
        const issuer = this.resourceOf(value.secretId, RESOURCE_TYPES.issuedCertificate);
        if (issuer) {
          const inSecret = field ? ` (field ${field} of its secret${pin})` : '';
          return { source: 'issued-certificate', from: `the issued certificate ${this.constructPathOf(issuer)}${inSecret}` };
        }
        const detail = field ? ` (field ${field}${pin})` : pin ? ` (${pin.slice(2)})` : '';
        return { source: 'secret', from: `the secret ${this.describeSecret(value.secretId)}${detail}` };
      }
      case 'ssm':
        return { source: 'ssm-parameter', from: `the SSM parameter ${this.describeParameter(value.parameterName)}${typeof value.version === 'string' ? ` (version ${value.version})` : ''}` };
      case 's3':
        return {
          source: 's3-object',
          from: `the S3 object s3://${typeof value.bucket === 'string' ? value.bucket : '(token)'}/${typeof value.key === 'string' ? value.key : '(token)'}`,
        };
      default:
        return { source: 'deploy-time-value', from: 'a value resolved at deploy' };
    }
  }

  /** A PEM given as a CloudFormation expression. */
  private valueOrigin(value: unknown): Origin {
    const certificate = this.resourceOf(value, RESOURCE_TYPES.pcaCertificate);
    if (certificate) {
      const owner = this.constructPathOf(certificate).replace(/\/CaCertificate$/, '');
      return { source: 'ca-certificate', from: `the CA certificate of ${owner}` };
    }
    const issued = this.resourceOf(value, RESOURCE_TYPES.issuedCertificate);
    if (issued) {
      return { source: 'issued-certificate', from: `the issued certificate ${this.constructPathOf(issued)}` };
    }
    const parameter = this.ssmParameterDefault(value);
    if (parameter !== undefined) {
      return { source: 'ssm-parameter', from: `the SSM parameter ${parameter}` };
    }
    return { source: 'deploy-time-value', from: this.describeExpression(value) };
  }

  private describeSecret(id: unknown): string {
    if (typeof id === 'string') return secretNameFromId(id) ?? id;
    const join = joinParts(id);
    if (join) {
      const i = join.findIndex((p) => typeof p === 'string' && p.includes(':secret:'));
      if (i >= 0) {
        const rest = join.slice(i);
        const name = rest.every((p) => typeof p === 'string') ? (rest as string[]).join('').split(':secret:')[1] : undefined;
        if (name) return name;
      }
    }
    const secret = this.resourceOf(id, RESOURCE_TYPES.secret);
    if (secret) return this.constructPathOf(secret);
    return this.describeExpression(id);
  }

  private describeParameter(name: unknown): string {
    if (typeof name === 'string') return name;
    const parameter = this.resourceOf(name, RESOURCE_TYPES.ssmParameter);
    if (parameter) return this.constructPathOf(parameter);
    return this.ssmParameterDefault(name) ?? this.describeExpression(name);
  }

  /** A CA named by its ARN: the construct path of the CA the expression refers to. */
  private describeCa(arn: unknown): string {
    const logicalId = referencedLogicalId(arn);
    if (logicalId && this.template.Resources?.[logicalId]) {
      // The ARN of a PrivateCa comes from one of its resources (the CA, its lifecycle, its activation).
      const owner = this.constructPathOf(logicalId).replace(/\/(Resource|Lifecycle|Activation)$/, '');
      return `the CA ${owner}`;
    }
    if (typeof arn === 'string') return `the CA ${arn}`;
    return 'a CA named at deploy';
  }

  private describeExpression(value: unknown): string {
    const logicalId = referencedLogicalId(value);
    if (logicalId && this.template.Resources?.[logicalId]) {
      return `an attribute of ${this.constructPathOf(logicalId)}`;
    }
    if (logicalId && this.template.Parameters?.[logicalId]) {
      return `the stack parameter ${logicalId}`;
    }
    if (isObject(value) && 'Fn::ImportValue' in value) {
      const name = value['Fn::ImportValue'];
      return `the export ${typeof name === 'string' ? name : '(token)'} of another stack`;
    }
    return 'a value resolved at deploy';
  }

  /** The logical ID of the resource of `type` that `value` references, if any. */
  private resourceOf(value: unknown, type: string): string | undefined {
    const logicalId = referencedLogicalId(value);
    return logicalId !== undefined && this.template.Resources?.[logicalId]?.Type === type ? logicalId : undefined;
  }

  /** The parameter name of a `Ref` to an `AWS::SSM::Parameter::Value<...>` stack parameter. */
  private ssmParameterDefault(value: unknown): string | undefined {
    const logicalId = isObject(value) && typeof value.Ref === 'string' ? value.Ref : undefined;
    const parameter = logicalId !== undefined ? this.template.Parameters?.[logicalId] : undefined;
    if (parameter && typeof parameter.Type === 'string' && parameter.Type.startsWith('AWS::SSM::Parameter::Value')) {
      return typeof parameter.Default === 'string' ? parameter.Default : logicalId;
    }
    return undefined;
  }

  /** The construct path of a resource: its `aws:cdk:logicalId` metadata, else `aws:cdk:path`, without `/Resource`. */
  private constructPathOf(logicalId: string): string {
    const metadataPath = this.stack.constructPaths[logicalId];
    const templatePath = this.template.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'];
    const full = metadataPath ?? (typeof templatePath === 'string' ? templatePath : `${this.stack.displayName}/${logicalId}`);
    return full.replace(/\/Default$/, '').replace(/\/Resource$/, '');
  }
}

/** The secret name in a secret ARN (`arn:...:secret:name`), or the ID itself when it is a name. */
function secretNameFromId(id: string): string | undefined {
  if (id === '') return undefined;
  const i = id.indexOf(':secret:');
  return i >= 0 ? id.slice(i + ':secret:'.length) : id;
}

function joinParts(value: unknown): unknown[] | undefined {
  if (!isObject(value) || !Array.isArray(value['Fn::Join'])) return undefined;
  const [, parts] = value['Fn::Join'] as unknown[];
  return Array.isArray(parts) ? parts : undefined;
}

/** The logical ID of a `Ref` or `Fn::GetAtt`, if `value` is one. */
function referencedLogicalId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
