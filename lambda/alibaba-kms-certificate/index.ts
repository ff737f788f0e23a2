/**
 * `Custom::AlibabaKmsCertificate`: certificates in Alibaba Cloud KMS Certificates Manager.
 *
 * Mode `create` (KMS generates the key, an ACM Private CA signs it) is split over the Provider
 * framework's two entry points, because KMS has no idempotency token on CreateCertificate and no
 * ListCertificates, so a certificate whose ID is lost can never be found again:
 * - onEvent checks every input and the CA (read-only), calls CreateCertificate and returns the new
 *   certificate ID as the physical ID at once. From then on CloudFormation knows the ID: whatever
 *   fails later (an error, a Lambda timeout, the framework's total timeout) is reported FAILED with
 *   that ID, and the rollback Delete removes the certificate.
 * - isComplete reads the CSR, has the CA sign it, waits for issuance, uploads certificate and chain,
 *   sets the tags and reports the attributes. If it fails, it first deletes the certificate this
 *   request created (a certificate that never got its upload is useless), then fails.
 *
 * Residual risks, both inherent in the KMS API:
 * - A CreateCertificate whose reply is lost (connection reset, timeout, a 5xx after the service
 *   acted): KMS may hold a PENDING certificate whose ID nobody learned. The handler does not retry
 *   such a create; it fails naming the subject and the time, so the certificate can be found in
 *   the KMS console and deleted. Only throttling (which means "not processed") is retried.
 * - A Create redelivered after the first attempt's onEvent had already succeeded: this container
 *   remembers the ID it created for each request and returns it again, but a redelivery that lands
 *   on a fresh container would create a second certificate.
 *
 * Mode `upload` (an existing `CertificateId`) does all its work in onEvent: it creates nothing, and
 * a failure there never leads CloudFormation to delete the user's certificate.
 *
 * Credentials come from a Secrets Manager secret read at every invocation; they are never logged
 * and are scrubbed from error messages.
 */
import { createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import {
  KmsCertificateDescription,
  KmsCertificatesApi,
  KmsCredentials,
  isKmsNetworkError,
  isKmsThrottling,
  isKmsTransient,
  kmsErrorCode,
} from './kms-api';
import { explainKmsError, KmsCallContext, networkHint } from './kms-errors';
import { checkIssuer, issueCertificate, IssueRequest } from './pca';
import {
  ALIBABA_KEY_SPECS,
  AlibabaKeySpecName,
  AlibabaKmsCertificateResourceAttributes,
  AlibabaKmsCertificateResourceProperties,
  ALIBABA_SUBJECT,
  AlibabaSubjectProps,
  CERTIFICATE_ID_PATTERN,
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
import { checkCertificateBody, checkCertificateChain, parseCertificates } from '../../src/contract/x509';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from '../shared/cfn';
import { asInputError, errorMessage, errorName, InputError } from '../shared/errors';
import { describeEvent, log } from '../shared/log';
import { parseMaterialSource, readMaterial } from '../shared/material';
import { canonicalJson } from '../shared/physical-name';
import { withRetry } from '../shared/retry';

export { pcaSettings } from './pca';

/** Client timeouts and retry budget for KMS calls. Overridable in tests. */
export const settings = {
  connectTimeoutMs: 5_000,
  readTimeoutMs: 30_000,
  /** Attempts for a KMS call that fails with throttling, a 5xx or a network error. */
  kmsMaxAttempts: 5,
};

type Props = AlibabaKmsCertificateResourceProperties;
type Event = OnEventRequest<Props>;

/** How to reach KMS. */
interface Connection {
  readonly regionId: string;
  /** Host and optional port; absent for the public endpoint. */
  readonly endpoint?: string;
  readonly protocol: 'https' | 'http';
  readonly credentialsSecretArn: string;
}

interface CommonRequest {
  readonly connection: Connection;
  readonly tags: Map<string, string>;
  readonly retain: boolean;
  readonly deactivate: boolean;
}

interface CreateRequest extends CommonRequest {
  readonly mode: 'create';
  readonly subject: string;
  readonly subjectAlternativeNames: string[];
  readonly keySpec: AlibabaKeySpecName;
  readonly exportablePrivateKey: boolean;
  readonly issue: IssueRequest;
}

interface UploadRequest extends CommonRequest {
  readonly mode: 'upload';
  readonly certificateId: string;
  readonly certificate: MaterialSource;
  readonly certificateChain?: MaterialSource;
}

type Request = CreateRequest | UploadRequest;

/** A connected client with what its messages need. */
interface Kms {
  readonly api: KmsCertificatesApi;
  readonly context: KmsCallContext;
}

/**
 * The certificate each Create request of this container made (stack, logical ID and request ID
 * to certificate ID), so that a redelivered Create returns its own certificate instead of a second.
 */
const createdByRequest = new Map<string, string>();

/** Credential values read during this invocation, scrubbed from any error message. */
let secretValues: string[] = [];

/** The Provider framework's onEvent entry point. */
export async function onEvent(event: Event): Promise<OnEventResponse> {
  secretValues = [];
  log('info', 'request', { ...describeEvent(event) });
  try {
    switch (event.RequestType) {
      case 'Create':
        return await create(event, parseRequest(event.ResourceProperties));
      case 'Update':
        return await update(event);
      case 'Delete':
        return await remove(event);
      default:
        throw new Error(`unknown request type ${String(event.RequestType)}`);
    }
  } catch (e) {
    const error = scrub(e);
    log('error', 'request failed', { requestType: event.RequestType, error: error.message });
    throw error;
  }
}

/**
 * The Provider framework's isComplete entry point: signs and uploads a certificate onEvent created;
 * otherwise only reports the attributes (upload mode and Delete have nothing to wait for).
 */
export async function isComplete(event: IsCompleteRequest<Props>): Promise<IsCompleteResponse> {
  secretValues = [];
  if (event.RequestType === 'Delete' || event.ResourceProperties.Mode === 'upload') {
    return { IsComplete: true };
  }
  try {
    return await completeCreated(event);
  } catch (e) {
    const error = scrub(e);
    log('error', 'completing the certificate failed', { requestType: event.RequestType, error: error.message });
    throw error;
  }
}

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
function replaces(event: { RequestType: string; ResourceProperties: Props; OldResourceProperties?: Props }): boolean {
  return event.RequestType === 'Create'
    || event.OldResourceProperties === undefined
    || identityOf(event.OldResourceProperties) !== identityOf(event.ResourceProperties);
}

async function create(event: Event, request: Request): Promise<OnEventResponse> {
  if (request.mode === 'upload') {
    return upload(request, undefined);
  }
  const kms = await connect(request.connection, 'create');
  const requestKey = `${event.StackId}|${event.LogicalResourceId}|${event.RequestId}`;
  const earlier = createdByRequest.get(requestKey);
  if (earlier !== undefined && await describe(kms, earlier) !== undefined) {
    log('info', 'redelivered request: returning the certificate this request already created', { certificateId: earlier });
    return { PhysicalResourceId: earlier };
  }
  // Everything that can be checked is checked before the one write that cannot be undone by ID.
  await checkIssuer(request.issue);

  let certificateId: string;
  try {
    // Only throttling is retried: any other failure may have created a certificate.
    const created = await withRetry('kms:CreateCertificate', () => kms.api.createCertificate({
      subject: request.subject,
      subjectAlternativeNames: request.subjectAlternativeNames,
      keySpec: request.keySpec,
      exportablePrivateKey: request.exportablePrivateKey,
    }), { retryable: isKmsThrottling, maxAttempts: settings.kmsMaxAttempts });
    certificateId = created.certificateId;
  } catch (e) {
    if (isKmsNetworkError(e) || (isKmsTransient(e) && !isKmsThrottling(e))) {
      const at = new Date().toISOString();
      log('warn', 'CreateCertificate got no usable reply; KMS may hold a PENDING certificate nobody knows the ID of', {
        subject: request.subject,
        at,
        error: kmsErrorCode(e) ?? errorName(e),
      });
      const error = new Error(`CreateCertificate in ${request.connection.regionId} failed without a usable reply `
        + `(${kmsErrorCode(e) ?? errorName(e)}: ${errorMessage(e)}). KMS may have created a PENDING certificate for "${request.subject}" at about ${at}, `
        + 'and KMS offers no way to find it by API: look for it in the KMS console (Certificates, status PENDING) and delete it, then deploy again'
        + (isKmsNetworkError(e) ? `. If this repeats, ${networkHint(kms.context)}` : ''));
      error.name = kmsErrorCode(e) ?? errorName(e);
      throw error;
    }
    throw explainKmsError(e, 'CreateCertificate', kms.context);
  }
  createdByRequest.set(requestKey, certificateId);
  log('info', 'created a KMS certificate (PENDING); isComplete has it signed and uploads it', {
    certificateId,
    keySpec: request.keySpec,
    exportablePrivateKey: request.exportablePrivateKey,
  });
  return { PhysicalResourceId: certificateId };
}

async function update(event: Event): Promise<OnEventResponse> {
  const request = parseRequest(event.ResourceProperties);
  if (replaces(event)) {
    log('info', 'an input that identifies the certificate changed: a new certificate replaces the old one', { oldCertificateId: event.PhysicalResourceId });
    return create(event, request);
  }
  if (request.mode === 'upload') {
    return upload(request, event.OldResourceProperties);
  }
  // Tags and delete-time settings only: isComplete reconciles the tags (writing only differences).
  return { PhysicalResourceId: event.PhysicalResourceId! };
}

/** Upload mode: checks the PEMs, uploads them unless KMS holds them already, sets the tags. */
async function upload(request: UploadRequest, oldProps: Props | undefined): Promise<OnEventResponse> {
  const certificate = await readMaterial(request.certificate, 'certificate');
  const chainText = request.certificateChain ? await readMaterial(request.certificateChain, 'certificateChain') : undefined;
  const chain = chainText !== undefined && chainText.trim().length > 0 ? chainText : undefined;
  asInputError(() => {
    for (const warning of checkCertificateBody(certificate, 'certificate').warnings) {
      log('warn', warning);
    }
    if (chain !== undefined) {
      checkCertificateChain(chain, 'certificateChain', certificate, { leafProperty: 'certificate' });
    }
  });

  const id = request.certificateId;
  const kms = await connect(request.connection, 'upload', id);
  const description = await describe(kms, id);
  if (!description) {
    throw new InputError('certificateId',
      `KMS has no certificate ${id} in ${request.connection.regionId}; check certificateId and regionId, and that the AccessKey in credentials belongs to the account that owns it`);
  }
  if (description.status === 'REVOKED') {
    throw new InputError('certificateId', `KMS certificate ${id} is REVOKED and takes no new certificate; create a new KMS certificate and use its ID`);
  }
  const mismatch = keyMismatch(certificate, description.subjectPublicKey);
  if (mismatch) {
    throw new InputError('certificate',
      `is not issued for the key of KMS certificate ${id}: ${mismatch}; sign that KMS certificate's CSR (GetCertificate returns it) and upload the result`);
  }

  const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(id));
  const unchanged = sameCertificates(stored?.certificate, certificate) && sameCertificates(stored?.certificateChain, chain);
  if (unchanged) {
    log('info', 'KMS already holds this certificate and chain; nothing to upload', { certificateId: id });
  } else {
    await kmsCall(kms, 'UploadCertificate', () => kms.api.uploadCertificate({ certificateId: id, certificate, certificateChain: chain }));
    log('info', 'uploaded the certificate to KMS', { certificateId: id, previousStatus: description.status });
  }
  const previousTags = new Map((oldProps?.Tags ?? []).map((t) => [String(t.Key), String(t.Value ?? '')]));
  const tagged = await reconcileTags(kms, id, description.tags, request.tags, previousTags);
  const final = !unchanged || tagged ? await describe(kms, id) ?? description : description;
  return { PhysicalResourceId: id, Data: await attributes(kms, final) };
}

/** Create mode, isComplete: sign and upload a PENDING certificate, set tags, report attributes. */
async function completeCreated(event: IsCompleteRequest<Props>): Promise<IsCompleteResponse> {
  const request = parseRequest(event.ResourceProperties);
  if (request.mode !== 'create') {
    return { IsComplete: true };
  }
  const id = event.PhysicalResourceId;
  // Only a certificate this request created may be deleted when completing it fails.
  const createdHere = replaces(event);
  const kms = await connect(request.connection, 'create', id);
  try {
    let description = await describe(kms, id);
    if (!description) {
      throw new Error(`the KMS certificate ${id} of this resource no longer exists in ${request.connection.regionId} (deleted outside CloudFormation?); `
        + 'change an input (e.g. a tag-free property such as validity) to create a new one');
    }
    if (description.status === 'PENDING') {
      await signAndUpload(kms, request, id, description);
      description = await describe(kms, id) ?? description;
    }
    const previousTags = new Map((event.OldResourceProperties?.Tags ?? []).map((t) => [String(t.Key), String(t.Value ?? '')]));
    if (await reconcileTags(kms, id, description.tags, request.tags, previousTags)) {
      description = await describe(kms, id) ?? description;
    }
    return { IsComplete: true, Data: await attributes(kms, description) };
  } catch (e) {
    if (createdHere) {
      await discard(kms, id);
    }
    throw e;
  }
}

async function signAndUpload(kms: Kms, request: CreateRequest, id: string, description: KmsCertificateDescription): Promise<void> {
  const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(id));
  const csr = stored?.csr;
  if (!csr) {
    throw new Error(`KMS returned no CSR for the PENDING certificate ${id}; deploy again`);
  }
  const signingAlgorithm = await checkIssuer(request.issue);
  const issued = await issueCertificate(request.issue, signingAlgorithm, id, csr);
  const mismatch = keyMismatch(issued.certificate, description.subjectPublicKey);
  if (mismatch) {
    throw new InputError('template', `the certificate the CA issued (${issued.certificateArn}) is not for the KMS key: ${mismatch}; use a template that keeps the CSR's public key`);
  }
  await kmsCall(kms, 'UploadCertificate', () => kms.api.uploadCertificate({
    certificateId: id,
    certificate: issued.certificate,
    certificateChain: issued.chain.trim().length > 0 ? issued.chain : undefined,
  }));
  log('info', 'uploaded the CA-signed certificate and its chain to KMS', { certificateId: id, certificateArn: issued.certificateArn });
}

/** Best effort: deletes a certificate this request created and could not complete. */
async function discard(kms: Kms, id: string): Promise<void> {
  try {
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('warn', 'deleted the certificate this request created, as completing it failed', { certificateId: id });
  } catch (e) {
    // The FAILED response still carries the ID, so CloudFormation's rollback Delete tries again.
    log('warn', 'could not delete the certificate this request created; the rollback Delete will try again', {
      certificateId: id,
      error: kmsErrorCode(e) ?? errorName(e),
    });
  }
}

async function remove(event: Event): Promise<OnEventResponse> {
  const id = event.PhysicalResourceId!;
  const props = event.ResourceProperties;
  if (!CERTIFICATE_ID_PATTERN.test(id)) {
    log('info', 'nothing to delete: no certificate was created', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  const retain = props.RemovalPolicy === 'retain';
  if (retain && props.Mode === 'upload') {
    log('info', 'keeping the KMS certificate (removalPolicy RETAIN)', { certificateId: id });
    return { PhysicalResourceId: id };
  }
  let request: Request;
  let kms: Kms;
  let description: KmsCertificateDescription | undefined;
  try {
    request = parseRequest(props);
    kms = await connect(request.connection, request.mode, id);
    description = await describe(kms, id);
  } catch (e) {
    if (retain) {
      // Keeping the certificate needs no call: do not fail a delete over it.
      log('warn', 'keeping the KMS certificate (removalPolicy RETAIN); could not check whether it was ever completed', { certificateId: id, error: errorName(e) });
      return { PhysicalResourceId: id };
    }
    throw e;
  }
  if (!description) {
    log('info', 'the KMS certificate is already gone', { certificateId: id });
    return { PhysicalResourceId: id };
  }
  if (request.mode === 'create' && description.status === 'PENDING') {
    // Never completed (a create that failed part-way): useless whatever the removal policy.
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('info', 'deleted a KMS certificate that was never completed', { certificateId: id });
  } else if (retain) {
    log('info', 'keeping the KMS certificate (removalPolicy RETAIN)', { certificateId: id });
  } else if (request.deactivate) {
    if (description.status === 'ACTIVE') {
      await kmsCall(kms, 'UpdateCertificateStatus', () => kms.api.updateCertificateStatus(id, 'INACTIVE'));
      log('info', 'set the KMS certificate INACTIVE (deactivateOnDelete)', { certificateId: id });
    } else {
      log('info', 'the KMS certificate is not ACTIVE; leaving it as it is (deactivateOnDelete)', { certificateId: id, status: description.status });
    }
  } else {
    await kmsCall(kms, 'DeleteCertificate', () => kms.api.deleteCertificate(id));
    log('info', 'deleted the KMS certificate and its private key', { certificateId: id });
  }
  return { PhysicalResourceId: id };
}

/**
 * Sets the desired tags and removes the ones this construct set before and no longer wants, leaving
 * tags added outside alone. Writes only differences. Returns whether anything was written.
 */
async function reconcileTags(
  kms: Kms,
  id: string,
  current: Record<string, string>,
  desired: Map<string, string>,
  previous: Map<string, string>,
): Promise<boolean> {
  const removed = [...previous.keys()].filter((k) => !desired.has(k) && k in current);
  const changed = [...desired].filter(([k, v]) => current[k] !== v);
  if (removed.length > 0) {
    await kmsCall(kms, 'UntagResource', () => kms.api.untagCertificate(id, removed));
  }
  if (changed.length > 0) {
    await kmsCall(kms, 'TagResource', () => kms.api.tagCertificate(id, Object.fromEntries(changed)));
  }
  if (removed.length + changed.length > 0) {
    log('info', 'updated tags', { certificateId: id, removed: removed.length, set: changed.length });
  }
  return removed.length + changed.length > 0;
}

async function attributes(kms: Kms, description: KmsCertificateDescription): Promise<AlibabaKmsCertificateResourceAttributes> {
  let serialNumber = description.serialNumber;
  let notAfter = description.notAfter;
  if (serialNumber === undefined || notAfter === undefined) {
    // Not every rendering of DescribeCertificate carries them: read the certificate itself.
    const stored = await kmsCall(kms, 'GetCertificate', () => kms.api.getCertificate(description.certificateId));
    if (stored?.certificate) {
      const cert = parseCertificates(stored.certificate, 'certificate')[0];
      serialNumber = serialNumber ?? cert.serialNumber.toLowerCase();
      notAfter = notAfter ?? cert.validTo;
    }
  }
  return {
    CertificateId: description.certificateId,
    Arn: description.arn,
    SerialNumber: serialNumber ?? '',
    NotAfter: isoDate(notAfter),
  };
}

/** Reads the credentials secret and builds a client for the connection. */
async function connect(connection: Connection, mode: 'create' | 'upload', certificateId?: string): Promise<Kms> {
  const credentials = await readCredentials(connection.credentialsSecretArn);
  const api = new KmsCertificatesApi({
    regionId: connection.regionId,
    endpoint: connection.endpoint,
    protocol: connection.protocol,
    credentials,
    connectTimeoutMs: settings.connectTimeoutMs,
    readTimeoutMs: settings.readTimeoutMs,
  });
  return { api, context: { regionId: connection.regionId, endpoint: connection.endpoint, mode, certificateId } };
}

/** Parses `{accessKeyId, accessKeySecret, securityToken?}`; messages never hold the values. */
async function readCredentials(secretArn: string): Promise<KmsCredentials> {
  const text = await readMaterial({ kind: 'secret', secretId: secretArn }, 'credentials');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('credentials', `the secret ${secretArn} does not hold JSON; store {"accessKeyId": "...", "accessKeySecret": "..."} (plus "securityToken" for STS credentials)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError('credentials', `the secret ${secretArn} does not hold a JSON object; store {"accessKeyId": "...", "accessKeySecret": "..."}`);
  }
  const record = parsed as Record<string, unknown>;
  const field = (name: string, required: boolean): string | undefined => {
    const value = record[name];
    if (value === undefined || value === null || value === '') {
      if (required) {
        throw new InputError('credentials', `the secret ${secretArn} has no field ${name}; store {"accessKeyId": "...", "accessKeySecret": "..."}`);
      }
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new InputError('credentials', `field ${name} of the secret ${secretArn} must be a string`);
    }
    return value;
  };
  const credentials: KmsCredentials = {
    accessKeyId: field('accessKeyId', true)!,
    accessKeySecret: field('accessKeySecret', true)!,
    securityToken: field('securityToken', false),
  };
  secretValues = [credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken ?? '']
    .filter((v) => v.length >= 4);
  return credentials;
}

/** A KMS call retried on throttling, 5xx and network errors, its failure explained. */
async function kmsCall<T>(kms: Kms, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(`kms:${operation}`, fn, {
      retryable: (e) => isKmsTransient(e) || isKmsNetworkError(e),
      maxAttempts: settings.kmsMaxAttempts,
    });
  } catch (e) {
    throw explainKmsError(e, operation, kms.context);
  }
}

async function describe(kms: Kms, id: string): Promise<KmsCertificateDescription | undefined> {
  return kmsCall(kms, 'DescribeCertificate', () => kms.api.describeCertificate(id));
}

/** Why `certificatePem` is not for the KMS key `publicKeyPem`, or undefined (also when unknown). */
function keyMismatch(certificatePem: string, publicKeyPem: string | undefined): string | undefined {
  if (!publicKeyPem) {
    return undefined;
  }
  let certKey: KeyObject;
  let kmsKey: KeyObject;
  try {
    certKey = new X509Certificate(certificatePem).publicKey;
    kmsKey = createPublicKey(publicKeyPem);
  } catch {
    // A key node cannot read (e.g. SM2): KMS itself checks on upload.
    return undefined;
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (der(certKey).equals(der(kmsKey))) {
    return undefined;
  }
  const describeKey = (k: KeyObject) => `${k.asymmetricKeyType?.toUpperCase()}${k.asymmetricKeyDetails?.modulusLength ? ` ${k.asymmetricKeyDetails.modulusLength}` : ''}${k.asymmetricKeyDetails?.namedCurve ? ` ${k.asymmetricKeyDetails.namedCurve}` : ''}`;
  return `the certificate's public key (${describeKey(certKey)}) differs from the KMS key (${describeKey(kmsKey)})`;
}

/** Same certificates (by fingerprint), whatever the PEM's wrapping or line endings. */
function sameCertificates(a: string | undefined, b: string | undefined): boolean {
  const fingerprints = (pem: string | undefined): string => {
    if (pem === undefined || pem.trim().length === 0) {
      return '';
    }
    try {
      return parseCertificates(pem, 'certificate').map((c) => c.fingerprint256).join();
    } catch {
      return `unparsable:${pem}`;
    }
  };
  return fingerprints(a) === fingerprints(b);
}

function isoDate(value: string | undefined): string {
  if (value === undefined || value === '') {
    return '';
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** The error with any credential value replaced (defence in depth: no service echoes them). */
function scrub(e: unknown): Error {
  const error = e instanceof Error ? e : new Error(errorMessage(e));
  let message = error.message;
  for (const value of secretValues) {
    message = message.split(value).join('[redacted]');
  }
  if (message === error.message) {
    return error;
  }
  const scrubbed = e instanceof InputError ? new InputError(e.property, message.replace(`${e.property}: `, '')) : new Error(message);
  scrubbed.name = error.name;
  return scrubbed;
}

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { retryConfig } from '../shared/retry';
