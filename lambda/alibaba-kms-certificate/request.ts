/** The properties of `Custom::AlibabaKmsCertificate`, checked, and what identifies the certificate. */
import type { IssueRequest } from './pca';
import {
  ALIBABA_KEY_SPECS,
  AlibabaKeySpecName,
  AlibabaKmsCertificateResourceProperties,
  ALIBABA_SUBJECT,
  AlibabaSubjectProps,
  certificateIdProblem,
  IN_PLACE_PROPERTIES,
  parseEndpoint,
  regionIdProblem,
  subjectAlternativeNamesProblem,
  tagsProblem,
} from '../../src/contract/alibaba-kms-certificate';
import type { MaterialSource } from '../../src/contract/material-source';
import { validityDaysProblem } from '../../src/contract/validity';
import { distinguishedName } from '../../src/contract/x500';
import { InputError } from '../shared/errors';
import { parseMaterialSource } from '../shared/material';
import { canonicalJson } from '../shared/physical-name';

export type Props = AlibabaKmsCertificateResourceProperties;

/** How to reach KMS. */
export interface Connection {
  readonly regionId: string;
  /** Host and optional port; absent for the public endpoint. */
  readonly endpoint?: string;
  readonly protocol: 'https' | 'http';
  readonly credentialsSecretArn: string;
}

export interface CommonRequest {
  readonly connection: Connection;
  readonly tags: Map<string, string>;
  readonly retain: boolean;
  readonly deactivate: boolean;
}

export interface CreateRequest extends CommonRequest {
  readonly mode: 'create';
  readonly subject: string;
  readonly subjectAlternativeNames: string[];
  readonly keySpec: AlibabaKeySpecName;
  readonly exportablePrivateKey: boolean;
  readonly issue: IssueRequest;
}

export interface UploadRequest extends CommonRequest {
  readonly mode: 'upload';
  readonly certificateId: string;
  readonly certificate: MaterialSource;
  readonly certificateChain?: MaterialSource;
}

export type Request = CreateRequest | UploadRequest;

/** Checks every property before anything is written (values that were tokens at synth included). */
export function parseRequest(props: Props): Request {
  const regionId = String(props.RegionId ?? '');
  const regionProblem = regionIdProblem(regionId);
  if (regionProblem) {
    throw new InputError('regionId', regionProblem);
  }
  let endpoint: string | undefined;
  let protocol: 'https' | 'http' = props.Protocol === 'http' ? 'http' : 'https';
  if (props.Endpoint !== undefined && props.Endpoint !== '') {
    const raw = String(props.Endpoint);
    const parsed = parseEndpoint(/^https?:\/\//.test(raw) ? raw : `${protocol}://${raw}`);
    if (typeof parsed === 'string') {
      throw new InputError('endpoint', parsed);
    }
    endpoint = parsed.host;
    protocol = parsed.protocol;
  } else if (protocol === 'http') {
    throw new InputError('endpoint', 'plain http needs an endpoint (a loopback test server); KMS endpoints serve HTTPS');
  }
  const credentialsSecretArn = String(props.CredentialsSecretArn ?? '');
  if (credentialsSecretArn === '') {
    throw new InputError('credentials', 'the ARN of the credentials secret is missing');
  }
  const tagList = (props.Tags ?? []).map((t) => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));
  const tagProblem = tagsProblem(tagList);
  if (tagProblem) {
    throw new InputError('tags', tagProblem);
  }
  const common: CommonRequest = {
    connection: { regionId, endpoint, protocol, credentialsSecretArn },
    tags: new Map(tagList.map((t) => [t.Key, t.Value])),
    retain: props.RemovalPolicy === 'retain',
    deactivate: props.DeactivateOnDelete === 'true',
  };

  if (props.Mode === 'upload') {
    const certificateId = String(props.CertificateId ?? '');
    const idProblem = certificateIdProblem(certificateId);
    if (idProblem) {
      throw new InputError('certificateId', idProblem);
    }
    return {
      ...common,
      mode: 'upload',
      certificateId,
      certificate: parseMaterialSource(props.Certificate, 'certificate'),
      certificateChain: props.CertificateChain === undefined ? undefined : parseMaterialSource(props.CertificateChain, 'certificateChain'),
    };
  }
  if (props.Mode !== 'create') {
    throw new InputError('certificateId', `unknown mode '${String(props.Mode)}'`);
  }

  const rawSubject = (props.Subject ?? {}) as unknown as Record<string, unknown>;
  const subject: Record<string, string> = {};
  for (const rule of ALIBABA_SUBJECT.fields) {
    const value = rawSubject[rule.field];
    const text = value === undefined || value === null ? undefined : String(value);
    const problem = ALIBABA_SUBJECT.problem(rule, text);
    if (problem) {
      throw new InputError(rule.property, problem);
    }
    if (text !== undefined && text !== '') {
      subject[rule.field] = text;
    }
  }
  const sans = props.SubjectAlternativeNames === undefined ? [] : props.SubjectAlternativeNames;
  if (!Array.isArray(sans)) {
    throw new InputError('subjectAlternativeNames', 'must be a list of DNS names');
  }
  const sanList = sans.map(String);
  const sanProblem = subjectAlternativeNamesProblem(sanList);
  if (sanProblem) {
    throw new InputError('subjectAlternativeNames', sanProblem);
  }
  const keySpec = String(props.KeySpec ?? '') as AlibabaKeySpecName;
  if (!ALIBABA_KEY_SPECS.includes(keySpec)) {
    throw new InputError('keySpec', `'${keySpec}' is not one of ${ALIBABA_KEY_SPECS.join(', ')}`);
  }
  if (keySpec === 'EC_SM2') {
    throw new InputError('keySpec', 'EC_SM2 cannot be used with issuer: ACM Private CA cannot sign an SM2 CSR; use RSA_2048 or EC_P256');
  }
  const caArn = String(props.CertificateAuthorityArn ?? '');
  if (!/^arn:[\w-]+:acm-pca:[\w-]*:\d*:certificate-authority\/[\w-]+$/.test(caArn)) {
    throw new InputError('issuer', `'${caArn}' is not an ACM Private CA ARN (arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>)`);
  }
  const templateArn = String(props.TemplateArn ?? '');
  if (!/^arn:[\w-]+:acm-pca:[\w-]*:\d*:template\/[\w+=/,.@-]+\/V\d+$/.test(templateArn)) {
    throw new InputError('template', `'${templateArn}' is not an ACM Private CA template ARN (arn:<partition>:acm-pca:::template/<name>/V<n>)`);
  }
  const validityDays = Number(props.ValidityDays);
  const validityProblem = validityDaysProblem(validityDays, String(validityDays), 1);
  if (validityProblem) {
    throw new InputError('validity', validityProblem);
  }
  return {
    ...common,
    mode: 'create',
    subject: distinguishedName(subject as unknown as AlibabaSubjectProps),
    subjectAlternativeNames: sanList,
    keySpec,
    exportablePrivateKey: props.ExportablePrivateKey === 'true',
    issue: { caArn, templateArn, validityDays },
  };
}

/**
 * The properties that decide which certificate this is, canonically: everything but the
 * in-place ones. In upload mode the uploaded PEMs are in place too (a new certificate is uploaded
 * to the same KMS certificate ID, which is the user's).
 */
export function identityOf(props: Props): string {
  const ignored = new Set<string>(['ServiceToken', ...IN_PLACE_PROPERTIES]);
  if (props.Mode === 'upload') {
    ignored.add('Certificate');
    ignored.add('CertificateChain');
  }
  const relevant: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (!ignored.has(key)) {
      relevant[key] = value;
    }
  }
  return canonicalJson(relevant);
}


/** Whether an Update asks for another certificate (a new physical ID). */
export function replaces(event: { RequestType: string; ResourceProperties: Props; OldResourceProperties?: Props }): boolean {
  return event.RequestType === 'Create'
    || event.OldResourceProperties === undefined
    || identityOf(event.OldResourceProperties) !== identityOf(event.ResourceProperties);
}
