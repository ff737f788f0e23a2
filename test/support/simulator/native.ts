/**
 * Native CloudFormation resources, modelled only as far as the simulator's scenarios need:
 * - `AWS::ACMPCA::CertificateAuthority`, `::Certificate`, `::CertificateAuthorityActivation`
 *   against moto (CreateCertificateAuthority, IssueCertificate, ImportCertificateAuthorityCertificate);
 *   `::Permission` is recorded only (moto has no ACM Private CA permissions).
 * - `AWS::SecretsManager::Secret` against moto.
 * - Consumers, recorded with the certificates they point at (and marked as users of them in the
 *   IAM and DMS fakes, so a delete of a used certificate meets DeleteConflict / InvalidResourceState
 *   as in AWS): `AWS::ElasticLoadBalancingV2::Listener` and `::ListenerCertificate`
 *   (Certificates[].CertificateArn), `AWS::CloudFront::Distribution`
 *   (ViewerCertificate.IamCertificateId / AcmCertificateArn), `AWS::DMS::Endpoint` (CertificateArn).
 * - `AWS::Route53::RecordSet`: recorded (name, type, values).
 * - Everything else is a no-op stub with a deterministic physical ID and plausible attributes.
 * Create-only properties (a change replaces the resource) are listed per type where modelled.
 */
import { createHash } from 'node:crypto';
import {
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  IssueCertificateCommand,
  UpdateCertificateAuthorityCommand,
} from '@aws-sdk/client-acm-pca';
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient, TagResourceCommand, UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CertificateTarget, SimWorld } from './world';

/** What a native resource operation sees. */
export interface NativeContext {
  readonly world: SimWorld;
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly logicalId: string;
  readonly type: string;
  /** Key of this resource's consumer record (stack, logical ID). */
  readonly consumerKey: (physicalId: string) => string;
}

/** A native resource's physical ID, Ref and attributes. */
export interface NativeState {
  readonly physicalId: string;
  readonly ref: unknown;
  readonly attributes: Record<string, unknown>;
}

interface NativeModel {
  /** Properties whose change replaces the resource. @default none */
  readonly createOnly?: readonly string[];
  create(ctx: NativeContext, props: any): Promise<NativeState>;
  /** In-place update. @default create's result computed again, same physical ID */
  update?(ctx: NativeContext, props: any, current: NativeState): Promise<NativeState>;
  delete?(ctx: NativeContext, current: NativeState): Promise<void>;
}

const hash = (s: string, n = 8) => createHash('sha256').update(s).digest('hex').slice(0, n).toUpperCase();

/** A deterministic name, as CloudFormation generates them: `<stack>-<logicalId>-<random>`. */
export function generatedName(ctx: Pick<NativeContext, 'stackName' | 'stackId' | 'logicalId'>, salt = ''): string {
  return `${ctx.stackName}-${ctx.logicalId}`.slice(0, 50) + `-${hash(ctx.stackId + ctx.logicalId + salt, 12)}`;
}

function service(type: string): string {
  const svc = type.split('::')[1]?.toLowerCase() ?? 'custom';
  return svc === 'elasticloadbalancingv2' ? 'elasticloadbalancing' : svc;
}

/** A stub: physical ID, Arn and any other attribute made up plausibly. */
export function stubState(ctx: NativeContext, salt = ''): NativeState {
  const physicalId = generatedName(ctx, salt);
  const svc = service(ctx.type);
  let arn: string;
  switch (ctx.type) {
    case 'AWS::Lambda::Function':
      arn = `arn:aws:lambda:${ctx.region}:${ctx.account}:function:${physicalId}`;
      break;
    case 'AWS::IAM::Role':
      arn = `arn:aws:iam::${ctx.account}:role/${physicalId}`;
      break;
    case 'AWS::Logs::LogGroup':
      arn = `arn:aws:logs:${ctx.region}:${ctx.account}:log-group:${physicalId}:*`;
      break;
    case 'AWS::StepFunctions::StateMachine':
      arn = `arn:aws:states:${ctx.region}:${ctx.account}:stateMachine:${physicalId}`;
      break;
    case 'AWS::SNS::Topic':
      arn = `arn:aws:sns:${ctx.region}:${ctx.account}:${physicalId}`;
      break;
    default:
      arn = `arn:aws:${svc}:${ctx.region}:${ctx.account}:${ctx.type.split('::')[2]?.toLowerCase() ?? 'resource'}/${physicalId}`;
  }
  // What Ref returns: the ARN for state machines and topics, the name or ID otherwise.
  const ref = ['AWS::StepFunctions::StateMachine', 'AWS::SNS::Topic', 'AWS::ElasticLoadBalancingV2::Listener'].includes(ctx.type) ? arn : physicalId;
  return { physicalId: ref === arn ? arn : physicalId, ref, attributes: { Arn: arn, Name: physicalId, Id: physicalId, RoleId: `AROA${hash(physicalId, 17)}` } };
}

function consumerModel(targetsOf: (props: any, ctx: NativeContext) => CertificateTarget[], createOnly?: string[]): NativeModel {
  return {
    createOnly,
    async create(ctx, props) {
      const state = stubState(ctx, createOnly ? JSON.stringify(createOnly.map((k) => props[k])) : '');
      ctx.world.setConsumer(ctx.consumerKey(state.physicalId), { name: `${ctx.stackName}(${ctx.region})/${ctx.logicalId}`, targets: targetsOf(props, ctx) });
      return state;
    },
    async update(ctx, props, current) {
      ctx.world.setConsumer(ctx.consumerKey(current.physicalId), { name: `${ctx.stackName}(${ctx.region})/${ctx.logicalId}`, targets: targetsOf(props, ctx) });
      return current;
    },
    async delete(ctx, current) {
      ctx.world.removeConsumer(ctx.consumerKey(current.physicalId));
    },
  };
}

/** A certificate ARN an ELB listener takes: IAM server certificate, ACM (imported, see world.ts) or ACM Private CA. */
function targetOfArn(arn: string): CertificateTarget[] {
  if (/^arn:[^:]+:iam::\d+:server-certificate\//.test(arn)) {
    return [{ kind: 'iam', arn }];
  }
  if (/^arn:[^:]+:acm:[^:]+:\d+:certificate\//.test(arn)) {
    return [{ kind: 'acm', arn }];
  }
  if (/^arn:[^:]+:acm-pca:/.test(arn)) {
    return [{ kind: 'acm-pca', arn }];
  }
  return [];
}

const secrets = (ctx: NativeContext) => new SecretsManagerClient(ctx.world.clientConfig(ctx.region));

const MODELS: Record<string, NativeModel> = {
  'AWS::ACMPCA::CertificateAuthority': {
    createOnly: ['Type', 'KeyAlgorithm', 'SigningAlgorithm', 'Subject', 'CsrExtensions', 'KeyStorageSecurityStandard', 'UsageMode'],
    async create(ctx, props) {
      const pca = ctx.world.pca(ctx.region);
      const created = await pca.send(new CreateCertificateAuthorityCommand({
        CertificateAuthorityType: props.Type,
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: props.KeyAlgorithm,
          SigningAlgorithm: props.SigningAlgorithm,
          Subject: props.Subject,
          CsrExtensions: props.CsrExtensions,
        },
        // moto stores but does not act on the revocation configuration.
        RevocationConfiguration: props.RevocationConfiguration,
        KeyStorageSecurityStandard: props.KeyStorageSecurityStandard,
        // CloudFormation's default; moto's own default is SHORT_LIVED_CERTIFICATE.
        UsageMode: props.UsageMode ?? 'GENERAL_PURPOSE',
        Tags: props.Tags,
      }));
      const arn = created.CertificateAuthorityArn!;
      const { Csr } = await pca.send(new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: arn }));
      return { physicalId: arn, ref: arn, attributes: { Arn: arn, CertificateSigningRequest: Csr } };
    },
    async update(_ctx, _props, current) {
      return current;
    },
    async delete(ctx, current) {
      // CloudFormation disables the CA and schedules its deletion; Custom::PrivateCa usually did already.
      await ctx.world.pca(ctx.region).send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: current.physicalId, Status: 'DISABLED' })).catch(() => undefined);
    },
  },
  'AWS::ACMPCA::Certificate': {
    createOnly: ['ApiPassthrough', 'CertificateAuthorityArn', 'CertificateSigningRequest', 'SigningAlgorithm', 'TemplateArn', 'Validity', 'ValidityNotBefore'],
    async create(ctx, props) {
      const pca = ctx.world.pca(ctx.region);
      const issued = await pca.send(new IssueCertificateCommand({
        CertificateAuthorityArn: props.CertificateAuthorityArn,
        Csr: new TextEncoder().encode(props.CertificateSigningRequest),
        SigningAlgorithm: props.SigningAlgorithm,
        TemplateArn: props.TemplateArn,
        Validity: props.Validity ? { Type: props.Validity.Type, Value: Number(props.Validity.Value) } : undefined,
      }));
      const arn = issued.CertificateArn!;
      const got = await pca.send(new GetCertificateCommand({ CertificateAuthorityArn: props.CertificateAuthorityArn, CertificateArn: arn }));
      return { physicalId: arn, ref: arn, attributes: { Arn: arn, Certificate: `${got.Certificate!.trim()}\n` } };
    },
    // Deleting the resource does not revoke the certificate (as in CloudFormation).
  },
  'AWS::ACMPCA::CertificateAuthorityActivation': {
    createOnly: ['CertificateAuthorityArn'],
    async create(ctx, props) {
      await ctx.world.pca(ctx.region).send(new ImportCertificateAuthorityCertificateCommand({
        CertificateAuthorityArn: props.CertificateAuthorityArn,
        Certificate: new TextEncoder().encode(props.Certificate),
        CertificateChain: props.CertificateChain ? new TextEncoder().encode(props.CertificateChain) : undefined,
      }));
      const chain = `${String(props.Certificate).trim()}\n${props.CertificateChain ? String(props.CertificateChain).trim() + '\n' : ''}`;
      return { physicalId: props.CertificateAuthorityArn, ref: props.CertificateAuthorityArn, attributes: { CompleteCertificateChain: chain } };
    },
    async update(ctx, props) {
      return MODELS['AWS::ACMPCA::CertificateAuthorityActivation'].create(ctx, props);
    },
    async delete(ctx, current) {
      await ctx.world.pca(ctx.region).send(new UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: current.physicalId, Status: 'DISABLED' })).catch(() => undefined);
    },
  },
  'AWS::SecretsManager::Secret': {
    createOnly: ['Name'],
    async create(ctx, props) {
      const name = props.Name ?? generatedName(ctx).replace(/[^A-Za-z0-9/_+=.@-]/g, '');
      const created = await secrets(ctx).send(new CreateSecretCommand({
        Name: name,
        Description: props.Description,
        KmsKeyId: props.KmsKeyId,
        SecretString: props.SecretString ?? (props.GenerateSecretString ? JSON.stringify({ generated: hash(name, 16) }) : undefined),
        Tags: props.Tags,
      }));
      return { physicalId: created.ARN!, ref: created.ARN!, attributes: { Id: created.ARN! } };
    },
    async update(ctx, props, current) {
      await secrets(ctx).send(new UpdateSecretCommand({ SecretId: current.physicalId, Description: props.Description, KmsKeyId: props.KmsKeyId }));
      if (props.Tags) {
        await secrets(ctx).send(new TagResourceCommand({ SecretId: current.physicalId, Tags: props.Tags }));
      }
      return current;
    },
    async delete(ctx, current) {
      await secrets(ctx).send(new DeleteSecretCommand({ SecretId: current.physicalId, ForceDeleteWithoutRecovery: true })).catch((e) => {
        if ((e as Error).name !== 'ResourceNotFoundException') {
          throw e;
        }
      });
    },
  },
  'AWS::ElasticLoadBalancingV2::Listener': consumerModel((p) => (p.Certificates ?? []).flatMap((c: any) => targetOfArn(String(c.CertificateArn)))),
  'AWS::ElasticLoadBalancingV2::ListenerCertificate': consumerModel((p) => (p.Certificates ?? []).flatMap((c: any) => targetOfArn(String(c.CertificateArn))), ['ListenerArn']),
  'AWS::CloudFront::Distribution': consumerModel((p) => {
    const v = p.DistributionConfig?.ViewerCertificate ?? {};
    if (v.IamCertificateId) {
      return [{ kind: 'iam', id: String(v.IamCertificateId) }];
    }
    return v.AcmCertificateArn ? targetOfArn(String(v.AcmCertificateArn)) : [];
  }),
  'AWS::DMS::Endpoint': consumerModel((p) => (p.CertificateArn ? [{ kind: 'dms', arn: String(p.CertificateArn) }] : [])),
};

/** The model of a native type (a stub when the type is not modelled). */
export function nativeModel(type: string): NativeModel {
  return MODELS[type] ?? {
    async create(ctx) {
      return stubState(ctx);
    },
  };
}

/** Names of the properties whose change replaces a resource of `type`. */
export function createOnlyProperties(type: string): readonly string[] {
  return MODELS[type]?.createOnly ?? [];
}
