import type { CertificateSummary as AcmCertificateSummary, Tag } from '@aws-sdk/client-acm';
import {
  ACM_CERTIFICATE_CHAIN_MAX_LENGTH,
  ACM_CERTIFICATE_MAX_LENGTH,
  ACM_IMPORT_KEY_ALGORITHMS,
  AcmCertificateFacts,
  AcmImportedCertificateResourceAttributes,
  AcmImportedCertificateResourceProperties,
  checkAcmCertificate,
  checkAcmPrivateKey,
  reimportProblems,
} from '../../src/contract/acm-certificate';
import {
  CertificateSummary,
  checkCertificateChain,
  checkDates,
  checkPrivateKeyMatchesCertificate,
  summarizeCertificates,
} from '../../src/contract/x509';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { service } from '../shared/clients';
import { durationText } from '../shared/dates';
import { asInputError, errorMessage, errorName, InputError, translateError } from '../shared/errors';
import { expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { parseMaterialSource, readMaterial } from '../shared/material';
import { assertUpdatable, isOwnerTagKey, mayDelete, Owner, ownershipOf, withOwnerTags } from '../shared/ownership';
import { retryWhile } from '../shared/retry';

/** ACM, made on first use. */
const acm = service({
  load: () => import('@aws-sdk/client-acm'),
  client: (sdk) => new sdk.ACMClient({}),
  retryOn: ['ConflictException'],
});

/** How long a delete waits for load balancers, distributions and APIs to let go of a certificate. */
export const settings = {
  inUseDeadlineMs: 10 * 60_000,
  inUseIntervalMs: 15_000,
};

type Event = OnEventRequest<AcmImportedCertificateResourceProperties>;

/** What the certificate should be, with the material read and checked. */
interface Desired {
  readonly certificate: string;
  readonly chain?: string;
  readonly privateKey: string;
  readonly facts: AcmCertificateFacts;
  /** The user's tags and the ownership tags. */
  readonly tags: Tag[];
  readonly owner: Owner;
  readonly notifyDaysBefore: number[];
}

/** What ACM holds under an ARN. */
interface Existing {
  readonly arn: string;
  readonly certificate: string;
  readonly chain?: string;
  readonly tags: Tag[];
}

const ACM_ARN = /^arn:[\w-]+:acm:[\w-]+:\d{12}:certificate\/[\w-]+$/;

const ERRORS = {
  ValidationException: (e: unknown) =>
    `ACM refused the certificate: ${errorMessage(e)}; check certificate, privateKey and certificateChain against ACM's import rules`,
  LimitExceededException: () =>
    'the account has reached its ACM certificate quota (imports in the last 365 days count too); delete unused certificates or ask for a higher quota',
  TooManyTagsException: () => 'ACM takes at most 50 tags on a certificate (48 besides the ownership tags); remove some',
  InvalidTagException: (e: unknown) => `ACM refused a tag: ${errorMessage(e)}; change the tag where Tags.of() sets it`,
  TagPolicyException: (e: unknown) => `a tag policy of the organization refuses the tags: ${errorMessage(e)}`,
  InvalidParameterException: (e: unknown) => `ACM rejected the request: ${errorMessage(e)}`,
  AccessDeniedException: (e: unknown) => `the handler may not do this in ACM: ${errorMessage(e)}`,
};

/** The error CloudFormation shows: a service error explained for the property at fault. */
export function acmCertificateError(e: unknown, event: OnEventRequest<unknown>): Error {
  return translateError(e, ERRORS, event.RequestType === 'Delete' ? 'delete' : 'AcmImportedCertificate');
}

/** `Custom::AcmImportedCertificate`. */
export const acmImportedCertificate: ResourceLifecycle<AcmImportedCertificateResourceProperties> = {
  create: async (event) => create(await desiredState(event.ResourceProperties, event)),
  update,
  delete: remove,
};

/**
 * Reads the material and applies every content rule before anything is written. Dates are checked
 * only before an import: an update of tags, or back to the certificate ACM holds (a rollback),
 * succeeds even when it has expired.
 */
export async function desiredState(props: AcmImportedCertificateResourceProperties, owner: Owner): Promise<Desired> {
  const notifyDaysBefore = parseNotifyDaysBefore(props.NotifyDaysBefore);
  const certificate = await readMaterial(parseMaterialSource(props.Certificate, 'certificate'), 'certificate');
  const chainText = props.CertificateChain === undefined
    ? undefined
    : await readMaterial(parseMaterialSource(props.CertificateChain, 'certificateChain'), 'certificateChain');
  const privateKey = await readMaterial(parseMaterialSource(props.PrivateKey, 'privateKey'), 'privateKey');
  const chain = chainText !== undefined && chainText.trim().length > 0 ? chainText : undefined;

  checkLength('certificate', certificate, ACM_CERTIFICATE_MAX_LENGTH);
  if (chain !== undefined) {
    checkLength('certificateChain', chain, ACM_CERTIFICATE_CHAIN_MAX_LENGTH);
  }
  const facts = asInputError(() => {
    const checked = checkAcmCertificate(certificate, 'certificate');
    if (chain !== undefined) {
      checkCertificateChain(chain, 'certificateChain', certificate, { dates: false, leafProperty: 'certificate' });
    }
    checkAcmPrivateKey(privateKey, 'privateKey');
    checkPrivateKeyMatchesCertificate(privateKey, certificate, 'privateKey', 'certificate');
    return checked;
  });
  return { certificate, chain, privateKey, facts, tags: withOwnerTags(props.Tags ?? [], owner), owner, notifyDaysBefore };
}

/** Imports a new certificate, unless this resource's earlier import of the same material is found. */
async function create(desired: Desired): Promise<OnEventResponse> {
  const adopted = await findOwnImport(desired);
  if (adopted) {
    log('info', 'adopting the certificate this resource imported earlier', { certificateArn: adopted.arn });
    return reconcile(adopted, desired, 'unchanged');
  }
  checkDatesBeforeImport(desired);
  const response = await acm.call('ImportCertificate', ({ sdk, client }) => client.send(new sdk.ImportCertificateCommand({
    Certificate: Buffer.from(desired.certificate, 'utf8'),
    PrivateKey: Buffer.from(desired.privateKey, 'utf8'),
    CertificateChain: desired.chain === undefined ? undefined : Buffer.from(desired.chain, 'utf8'),
    // Tags go with the import, so nothing is left untagged if a later call fails.
    Tags: desired.tags,
  })));
  const arn = response.CertificateArn!;
  log('info', 'imported certificate', { certificateArn: arn, keyAlgorithm: desired.facts.keyAlgorithm });
  return respond(arn, desired, 'imported');
}

async function update(event: Event): Promise<OnEventResponse> {
  const desired = await desiredState(event.ResourceProperties, event);
  const arn = event.PhysicalResourceId ?? '';
  const existing = ACM_ARN.test(arn) ? await getExisting(arn) : undefined;
  if (!existing) {
    log('warn', 'the certificate is gone; importing it again', { certificateArn: arn });
    return create(desired);
  }
  assertUpdatable(ownershipOf(existing.tags, desired.owner), `the ACM certificate '${arn}'`);
  if (sameContent(existing, desired)) {
    // Tags only, or back to what ACM holds (a rollback): no date check, no import.
    return reconcile(existing, desired, 'unchanged');
  }
  const current = asInputError(() => checkAcmCertificate(existing.certificate, 'the imported certificate'));
  const problems = reimportProblems(current, desired.facts);
  if (problems.length > 0) {
    // ACM would refuse the re-import: a new certificate, a new ARN; CloudFormation moves every
    // consumer to it and then deletes the old one.
    log('warn', 'ACM cannot re-import this certificate in place; importing a new certificate', { certificateArn: arn, reasons: problems });
    return create(desired);
  }
  checkDatesBeforeImport(desired);
  // A re-import takes no tags: they stay on the certificate (reconciled below).
  await acm.call('ImportCertificate', ({ sdk, client }) => client.send(new sdk.ImportCertificateCommand({
    CertificateArn: arn,
    Certificate: Buffer.from(desired.certificate, 'utf8'),
    PrivateKey: Buffer.from(desired.privateKey, 'utf8'),
    CertificateChain: desired.chain === undefined ? undefined : Buffer.from(desired.chain, 'utf8'),
  })));
  log('info', 're-imported certificate in place', { certificateArn: arn, keyAlgorithm: desired.facts.keyAlgorithm });
  return reconcile({ ...existing, tags: await listTags(arn) }, desired, 'reimported');
}

/** Brings the tags in line, writing only what differs; never removes the ownership tags. */
async function reconcile(existing: Existing, desired: Desired, outcome: string): Promise<OnEventResponse> {
  const arn = existing.arn;
  const current = new Map(existing.tags.map(t => [t.Key!, t.Value ?? '']));
  const wanted = new Map(desired.tags.map(t => [t.Key!, t.Value ?? '']));
  const removed = [...current.entries()].filter(([k]) => !wanted.has(k) && !isOwnerTagKey(k));
  const changed = [...wanted.entries()].filter(([k, v]) => current.get(k) !== v);
  if (removed.length > 0) {
    await acm.call('RemoveTagsFromCertificate', ({ sdk, client }) => client.send(new sdk.RemoveTagsFromCertificateCommand({
      CertificateArn: arn,
      Tags: removed.map(([Key, Value]) => ({ Key, Value })),
    })));
  }
  if (changed.length > 0) {
    await acm.call('AddTagsToCertificate', ({ sdk, client }) => client.send(new sdk.AddTagsToCertificateCommand({
      CertificateArn: arn,
      Tags: changed.map(([Key, Value]) => ({ Key, Value })),
    })));
  }
  if (removed.length + changed.length > 0) {
    log('info', 'updated tags', { certificateArn: arn, removed: removed.length, set: changed.length });
  }
  return respond(arn, desired, outcome);
}

async function remove(event: Event): Promise<OnEventResponse> {
  const arn = event.PhysicalResourceId!;
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'retaining certificate (removalPolicy RETAIN)', { certificateArn: arn });
    return { PhysicalResourceId: arn };
  }
  if (!ACM_ARN.test(arn)) {
    // Not an ACM ARN (e.g. the id of a create that failed): nothing to delete.
    log('info', 'nothing to delete', { physicalResourceId: arn });
    return { PhysicalResourceId: arn };
  }
  let tags: Tag[];
  try {
    tags = await listTags(arn);
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException') {
      log('info', 'certificate already gone', { certificateArn: arn });
      return { PhysicalResourceId: arn };
    }
    throw e;
  }
  if (!mayDelete(ownershipOf(tags, event), `the ACM certificate '${arn}'`)) {
    return { PhysicalResourceId: arn };
  }
  try {
    await retryWhile(
      'DeleteCertificate',
      () => acm.call('DeleteCertificate', ({ sdk, client }) => client.send(new sdk.DeleteCertificateCommand({ CertificateArn: arn }))),
      e => errorName(e) === 'ResourceInUseException',
      { deadlineMs: settings.inUseDeadlineMs, intervalMs: settings.inUseIntervalMs },
    );
    log('info', 'deleted certificate', { certificateArn: arn });
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException') {
      log('info', 'certificate already gone', { certificateArn: arn });
    } else if (name === 'ResourceInUseException') {
      const users = await inUseBy(arn);
      throw new Error(
        `the ACM certificate '${arn}' is still in use after ${durationText(settings.inUseDeadlineMs)}`
        + (users.length > 0 ? ` by ${users.join(', ')}` : ` (${errorMessage(e)})`) + '. '
        + 'Remove it from those load balancer listeners, CloudFront distributions or API Gateway domain names (or remove them from the stack first), then delete again.');
    } else {
      throw e;
    }
  }
  return { PhysicalResourceId: arn };
}

/** What uses a certificate, as DescribeCertificate's InUseBy says (at most 10 named). */
async function inUseBy(arn: string): Promise<string[]> {
  try {
    const out = await acm.call('DescribeCertificate', ({ sdk, client }) => client.send(new sdk.DescribeCertificateCommand({ CertificateArn: arn })));
    const users = out.Certificate?.InUseBy ?? [];
    return users.length > 10 ? [...users.slice(0, 10), `${users.length - 10} more`] : users;
  } catch {
    return [];
  }
}

/**
 * This resource's earlier import of the same certificate (a redelivered or retried Create, or an
 * update back to a certificate a replacement left behind): an IMPORTED certificate of the same key
 * algorithm and notAfter that carries this resource's ownership tags and holds the same
 * certificate and chain. Never one another stack or resource owns, nor one without ownership tags.
 */
async function findOwnImport(desired: Desired): Promise<Existing | undefined> {
  const notAfter = Math.floor(new Date(desired.facts.summary.notAfter).getTime() / 1000);
  const candidates: AcmCertificateSummary[] = [];
  let nextToken: string | undefined;
  do {
    const out = await acm.call('ListCertificates', ({ sdk, client }) => client.send(new sdk.ListCertificatesCommand({
      // ACM lists only some key types unless asked for all.
      Includes: { keyTypes: ACM_IMPORT_KEY_ALGORITHMS.map(a => a.name) as never },
      NextToken: nextToken,
      MaxItems: 1000,
    })));
    for (const summary of out.CertificateSummaryList ?? []) {
      if ((summary.Type === undefined || summary.Type === 'IMPORTED')
        && (summary.KeyAlgorithm === undefined || summary.KeyAlgorithm === desired.facts.keyAlgorithm)
        && (summary.NotAfter === undefined || Math.floor(new Date(summary.NotAfter).getTime() / 1000) === notAfter)) {
        candidates.push(summary);
      }
    }
    nextToken = out.NextToken;
  } while (nextToken);
  for (const candidate of candidates) {
    const arn = candidate.CertificateArn!;
    const tags = await listTags(arn).catch(() => undefined);
    if (tags === undefined || ownershipOf(tags, desired.owner).kind !== 'this') {
      continue;
    }
    const existing = await getExisting(arn, tags);
    if (existing && sameContent(existing, desired)) {
      return existing;
    }
  }
  return undefined;
}

/** The certificate ACM holds under `arn` and its tags, or undefined when it is gone. */
async function getExisting(arn: string, knownTags?: Tag[]): Promise<Existing | undefined> {
  try {
    const out = await acm.call('GetCertificate', ({ sdk, client }) => client.send(new sdk.GetCertificateCommand({ CertificateArn: arn })));
    const tags = knownTags ?? await listTags(arn);
    return { arn, certificate: out.Certificate ?? '', chain: out.CertificateChain, tags };
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException' || errorName(e) === 'RequestInProgressException') {
      return undefined;
    }
    throw e;
  }
}

async function listTags(arn: string): Promise<Tag[]> {
  const out = await acm.call('ListTagsForCertificate', ({ sdk, client }) => client.send(new sdk.ListTagsForCertificateCommand({ CertificateArn: arn })));
  return out.Tags ?? [];
}

/** Expired or not-yet-valid material is never imported (ACM refuses it too); expiring soon is a warning. */
function checkDatesBeforeImport(desired: Desired): void {
  asInputError(() => {
    const warnings = checkDates(desired.certificate, 'certificate');
    if (desired.chain !== undefined) {
      warnings.push(...checkDates(desired.chain, 'certificateChain'));
    }
    for (const warning of warnings) {
      log('warn', warning);
    }
  });
}

function respond(arn: string, desired: Desired, outcome: string): OnEventResponse {
  const data: AcmImportedCertificateResourceAttributes = {
    ...expiryNoticeData(desired.facts.summary.notAfter, desired.notifyDaysBefore, 'certificate'),
    KeyAlgorithm: desired.facts.keyAlgorithm,
    NotAfter: desired.facts.summary.notAfter,
    Import: outcome,
  };
  return { PhysicalResourceId: arn, Data: data };
}

/**
 * Whether ACM holds this certificate and chain. Fingerprints identify certificates whatever the
 * PEM's line endings or wrapping. Self-signed roots after the desired chain are no difference: a
 * root is never needed to serve TLS, and a service may return the chain with its trust anchor.
 */
function sameContent(existing: Existing, desired: Desired): boolean {
  const have = certificates(existing.chain);
  const want = certificates(desired.chain);
  const [current] = certificates(existing.certificate);
  const [wanted] = certificates(desired.certificate);
  return current !== undefined && wanted !== undefined && current.fingerprintSha256 === wanted.fingerprintSha256
    && have.length >= want.length
    && want.every((c, i) => have[i].fingerprintSha256 === c.fingerprintSha256)
    && have.slice(want.length).every(c => c.selfSigned);
}

function certificates(pem: string | undefined): CertificateSummary[] {
  if (pem === undefined || pem.trim().length === 0) {
    return [];
  }
  try {
    return summarizeCertificates(pem, 'certificate');
  } catch {
    return [];
  }
}

function checkLength(property: string, value: string, max: number): void {
  if (value.length < 1 || value.length > max) {
    throw new InputError(property, `must be 1 to ${max} characters long, got ${value.length}`);
  }
}
