import { createHash } from 'node:crypto';
import type { Certificate, Tag } from '@aws-sdk/client-database-migration-service';
import {
  checkDmsCertificatePem,
  DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH,
  DmsCertificateResourceAttributes,
  DmsCertificateResourceProperties,
  dmsCertificateIdentifierProblem,
  dmsTagProblem,
} from '../../src/contract/dms-certificate';
import { joinProblems } from '../../src/contract/problems';
import { checkDates, parseCertificates } from '../../src/contract/x509';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { service } from '../shared/clients';
import { durationText, isoDate } from '../shared/dates';
import { asInputError, errorMessage, errorName, InputError, translateError } from '../shared/errors';
import { earliestNotAfter, expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { parseMaterialSource, readMaterial, readMaterialBytes } from '../shared/material';
import { assertAdoptable, assertUpdatable, mayDelete, Owner, ownedName, Ownership, ownershipOf, withOwnerTags } from '../shared/ownership';
import { retryWhile } from '../shared/retry';

/** DMS, made on first use; KMS throttling behind an import is retried too. */
const dms = service({
  load: () => import('@aws-sdk/client-database-migration-service'),
  client: (sdk) => new sdk.DatabaseMigrationServiceClient({}),
  retryOn: ['KMSThrottlingFault'],
});

/** How long a delete waits for endpoints to let go of a certificate. */
export const settings = {
  inUseDeadlineMs: 10 * 60_000,
  inUseIntervalMs: 15_000,
};

/** A DMS certificate ARN: `arn:<partition>:dms:<region>:<account>:cert:<id>`. */
const CERTIFICATE_ARN = /^arn:[a-z0-9-]+:dms:[a-z0-9-]+:\d{12}:cert:[A-Za-z0-9-]+$/;

type Event = OnEventRequest<DmsCertificateResourceProperties>;

/** What the certificate should be, with the material read and checked. */
export interface Desired {
  readonly identifier: string;
  /** The identifier was chosen by the user (new content cannot reuse it). */
  readonly fixedIdentifier: boolean;
  readonly pem?: string;
  readonly wallet?: Uint8Array;
  readonly kmsKeyId?: string;
  /** The user's tags and the ownership tags. */
  readonly tags: Tag[];
  readonly owner: Owner;
  /** Day counts of the expiry notices to time (notifyBeforeExpiry). */
  readonly notifyDaysBefore: number[];
}

const ERRORS = {
  ResourceAlreadyExistsFault: () =>
    'certificateIdentifier is already used by another DMS certificate in this account and region; choose another certificateIdentifier, or omit it to have one generated',
  InvalidCertificateFault: (e: unknown) =>
    `DMS rejected the certificate (${errorMessage(e)}); pass PEM X.509 certificates in certificatePem, or a valid Oracle auto-login wallet (.sso) in certificateWallet`,
  ResourceQuotaExceededFault: () =>
    'the account has reached its quota of DMS certificates in this region; delete unused certificates (aws dms describe-certificates) or ask for a higher quota',
  KMSKeyNotAccessibleFault: (e: unknown) =>
    `kmsKey cannot be used by DMS (${errorMessage(e)}); check the key is enabled and in this region, and that its key policy lets the handler role use it through DMS (kms:DescribeKey, kms:CreateGrant, kms:Encrypt), or omit kmsKey to use DMS's default key`,
  AccessDeniedFault: (e: unknown) =>
    `DMS denied the request (${errorMessage(e)}); the handler role needs the dms: and kms: permissions this construct grants, check no permissions boundary or SCP removes them`,
};

/** The error CloudFormation shows: a service error explained for the property at fault. */
export function dmsCertificateError(e: unknown): Error {
  return translateError(e, ERRORS, 'DmsCertificate');
}

/** `Custom::DmsCertificate`. */
export const dmsCertificate: ResourceLifecycle<DmsCertificateResourceProperties> = {
  create: async (event) => create(await desiredState(event.ResourceProperties, event)),
  update,
  delete: remove,
};

/**
 * Reads the material and applies every content rule before anything is written. Dates are
 * checked only before an import ({@link create}): an update of tags, or back to a certificate DMS
 * still holds (a rollback), succeeds even when the certificate has expired.
 */
export async function desiredState(props: DmsCertificateResourceProperties, owner: Owner): Promise<Desired> {
  const notifyDaysBefore = parseNotifyDaysBefore(props.NotifyDaysBefore);
  const hasPem = present(props.CertificatePem);
  const hasWallet = present(props.CertificateWallet);
  if (hasPem === hasWallet) {
    throw new InputError('certificatePem', `give exactly one of certificatePem or certificateWallet; got ${hasPem ? 'both' : 'neither'}`);
  }

  const tags = (props.Tags ?? []).map(t => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));
  // Every tag's problems in one error.
  const tagIssue = joinProblems(tags.map(tag => dmsTagProblem(tag.Key, tag.Value)));
  if (tagIssue) {
    throw new InputError('tags', tagIssue);
  }

  let pem: string | undefined;
  let wallet: Uint8Array | undefined;
  let contentId: string;
  if (hasPem) {
    pem = await readMaterial(parseMaterialSource(props.CertificatePem, 'certificatePem'), 'certificatePem');
    const result = asInputError(() => checkDmsCertificatePem(pem!, 'certificatePem', { dates: false }));
    // Fingerprints: the same certificates give the same identifier whatever the PEM's wrapping.
    contentId = `pem:${result.certificates.map(c => c.fingerprintSha256).join(',')}`;
  } else {
    wallet = await readMaterialBytes(parseMaterialSource(props.CertificateWallet, 'certificateWallet'), 'certificateWallet');
    if (wallet.byteLength === 0) {
      throw new InputError('certificateWallet', 'the wallet object is empty; upload the Oracle wallet .sso file');
    }
    contentId = `wallet:${createHash('sha256').update(wallet).digest('hex')}`;
  }

  const kmsKeyId = present(props.KmsKeyId) ? props.KmsKeyId : undefined;
  const fixedIdentifier = present(props.CertificateIdentifier);
  const identifier = fixedIdentifier
    ? props.CertificateIdentifier!
    : ownedName(owner, props.NamePrefix || 'cert', [contentId, kmsKeyId ?? ''], {
      maxLength: DMS_CERTIFICATE_IDENTIFIER_MAX_LENGTH,
    });
  const problem = dmsCertificateIdentifierProblem(identifier);
  if (problem) {
    throw new InputError('certificateIdentifier', fixedIdentifier ? problem : `the generated identifier ${problem}; give certificateIdentifier`);
  }
  return { identifier, fixedIdentifier, pem, wallet, kmsKeyId, tags: withOwnerTags(tags, owner), owner, notifyDaysBefore };
}

/** Imports the certificate, or adopts the one an earlier attempt imported. */
export async function create(desired: Desired): Promise<OnEventResponse> {
  // A retried Create, or an update back to a certificate DMS still holds (a rollback), finds it
  // and adopts it with no date check; never what another stack or resource owns.
  const earlier = await findCertificate('certificate-id', desired.identifier);
  if (earlier) {
    return adopt(earlier, desired);
  }
  if (desired.pem !== undefined) {
    // Expired or not-yet-valid certificates are never imported; expiring soon is a warning. (A
    // wallet's dates are known once DMS has read it.)
    for (const warning of asInputError(() => checkDates(desired.pem!, 'certificatePem'))) {
      log('warn', warning);
    }
  }
  let certificate: Certificate;
  try {
    const response = await dms.call('ImportCertificate', ({ sdk, client }) => client.send(new sdk.ImportCertificateCommand({
      CertificateIdentifier: desired.identifier,
      CertificatePem: desired.pem,
      // Bytes, not base64 text: the SDK base64-encodes blobs itself, exactly once.
      CertificateWallet: desired.wallet,
      KmsKeyId: desired.kmsKeyId,
      // Tags go with the import, so nothing is left half-created if a later call fails.
      Tags: desired.tags.length > 0 ? desired.tags : undefined,
    })));
    certificate = response.Certificate!;
    log('info', 'imported DMS certificate', { certificateIdentifier: desired.identifier, certificateArn: certificate.CertificateArn });
  } catch (e) {
    if (errorName(e) !== 'ResourceAlreadyExistsFault') {
      throw e;
    }
    // Imported meanwhile by a concurrent attempt: the same rules.
    const raced = await findCertificate('certificate-id', desired.identifier);
    if (!raced) {
      throw e;
    }
    return adopt(raced, desired);
  }
  try {
    checkKmsKeyApplied(certificate, desired);
    return respond(certificate, desired);
  } catch (e) {
    // The key was not applied, or no expiry date for the notices (a wallet DMS reports none
    // for): leave nothing behind.
    await dms.call('DeleteCertificate', ({ sdk, client }) => client.send(new sdk.DeleteCertificateCommand({ CertificateArn: certificate.CertificateArn }))).catch((cleanup) =>
      log('warn', 'could not delete the certificate just imported', { certificateArn: certificate.CertificateArn, error: errorName(cleanup) }));
    throw e;
  }
}

/**
 * Fails when DMS did not encrypt with the requested key: an SDK in the Lambda runtime that predates
 * ImportCertificate's KmsKeyId drops the field without a word, and DMS then uses its default key.
 * Compared by key ID (the key's ARN, or its ID); an alias cannot be compared and is trusted.
 */
function checkKmsKeyApplied(certificate: Certificate, desired: Desired): void {
  if (desired.kmsKeyId === undefined || /(^|:)alias\//.test(desired.kmsKeyId)) {
    return;
  }
  const keyId = (id: string | undefined) => (id === undefined ? undefined : id.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:key\//, ''));
  const applied = certificate.KmsKeyId;
  if (keyId(applied) !== keyId(desired.kmsKeyId)) {
    throw new InputError('kmsKey',
      `DMS encrypted the certificate with ${applied ?? 'its default key'}, not the requested key ${desired.kmsKeyId} `
      + '(the AWS SDK in the Lambda runtime may predate ImportCertificate\'s KmsKeyId); the certificate was removed. '
      + 'Deploy on a current Lambda runtime, or omit kmsKey to use DMS\'s default key');
  }
}

async function adopt(existing: Certificate, desired: Desired): Promise<OnEventResponse> {
  const tags = await listTags(existing.CertificateArn!);
  assertAdoptable(ownershipOf(tags, desired.owner), `the DMS certificate '${desired.identifier}'`, 'certificateIdentifier');
  if (sameContent(existing, desired) === 'different') {
    throw new InputError('certificateIdentifier',
      `a DMS certificate named '${desired.identifier}' already exists in this account and region with different content; choose another certificateIdentifier, or omit it to have one generated`);
  }
  log('info', 'adopting the DMS certificate this resource imported earlier', { certificateIdentifier: desired.identifier, certificateArn: existing.CertificateArn });
  await reconcileTags(existing.CertificateArn!, desired.tags, tags);
  return respond(existing, desired);
}

async function update(event: Event): Promise<OnEventResponse> {
  const desired = await desiredState(event.ResourceProperties, event);
  const oldArn = event.PhysicalResourceId ?? '';
  const existing = CERTIFICATE_ARN.test(oldArn) ? await findCertificate('certificate-arn', oldArn) : undefined;
  if (!existing) {
    log('warn', 'the DMS certificate is gone; importing it again', { certificateArn: oldArn });
    return create(desired);
  }
  if (existing.CertificateIdentifier !== desired.identifier) {
    // New content, key or identifier: import a new certificate; CloudFormation then deletes the old one.
    return create(desired);
  }
  const oldKmsKeyId = present(event.OldResourceProperties?.KmsKeyId) ? event.OldResourceProperties!.KmsKeyId : undefined;
  if (sameContent(existing, desired) === 'different' || oldKmsKeyId !== desired.kmsKeyId) {
    throw new InputError('certificateIdentifier',
      `is fixed to '${desired.identifier}', and DMS cannot change the content or KMS key of an existing certificate; give a new certificateIdentifier with the new ${desired.pem !== undefined ? 'certificatePem' : 'certificateWallet'} or kmsKey, or omit it to have one generated`);
  }
  const tags = await listTags(existing.CertificateArn!);
  assertUpdatable(ownershipOf(tags, desired.owner), `the DMS certificate '${desired.identifier}'`);
  await reconcileTags(existing.CertificateArn!, desired.tags, tags);
  return respond(existing, desired);
}

async function listTags(arn: string): Promise<Tag[]> {
  const listed = await dms.call('ListTagsForResource', ({ sdk, client }) => client.send(new sdk.ListTagsForResourceCommand({ ResourceArn: arn })));
  return listed.TagList ?? [];
}

/** Brings the tags in line, writing only what differs. */
async function reconcileTags(arn: string, tags: Tag[], listed: Tag[]): Promise<void> {
  const current = new Map(listed.map(t => [t.Key!, t.Value ?? '']));
  const wanted = new Map(tags.map(t => [t.Key!, t.Value ?? '']));
  const removed = [...current.keys()].filter(k => !wanted.has(k));
  const changed = [...wanted.entries()].filter(([k, v]) => current.get(k) !== v);
  if (removed.length > 0) {
    await dms.call('RemoveTagsFromResource', ({ sdk, client }) => client.send(new sdk.RemoveTagsFromResourceCommand({ ResourceArn: arn, TagKeys: removed })));
  }
  if (changed.length > 0) {
    await dms.call('AddTagsToResource', ({ sdk, client }) => client.send(new sdk.AddTagsToResourceCommand({
      ResourceArn: arn,
      Tags: changed.map(([Key, Value]) => ({ Key, Value })),
    })));
  }
  if (removed.length + changed.length > 0) {
    log('info', 'updated tags', { certificateArn: arn, removed: removed.length, set: changed.length });
  }
}

async function remove(event: Event): Promise<OnEventResponse> {
  const arn = event.PhysicalResourceId ?? '';
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'retaining DMS certificate (removalPolicy RETAIN)', { certificateArn: arn });
    return { PhysicalResourceId: arn };
  }
  if (!CERTIFICATE_ARN.test(arn)) {
    // Not an ARN DMS gave (e.g. the id of a create that failed): nothing to delete.
    log('info', 'nothing to delete', { physicalResourceId: arn });
    return { PhysicalResourceId: arn };
  }
  const ownership = await ownershipForDelete(arn, event);
  if (ownership === 'gone') {
    log('info', 'DMS certificate already gone', { certificateArn: arn });
    return { PhysicalResourceId: arn };
  }
  if (!mayDelete(ownership, `the DMS certificate ${arn}`)) {
    return { PhysicalResourceId: arn };
  }
  try {
    await retryWhile(
      'DeleteCertificate',
      () => dms.call('DeleteCertificate', ({ sdk, client }) => client.send(new sdk.DeleteCertificateCommand({ CertificateArn: arn }))),
      e => errorName(e) === 'InvalidResourceStateFault',
      { deadlineMs: settings.inUseDeadlineMs, intervalMs: settings.inUseIntervalMs },
    );
    log('info', 'deleted DMS certificate', { certificateArn: arn });
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundFault') {
      log('info', 'DMS certificate already gone', { certificateArn: arn });
    } else if (name === 'InvalidResourceStateFault') {
      const users = await endpointsUsing(arn);
      throw new Error(
        `DmsCertificate ${arn} is still in use after ${durationText(settings.inUseDeadlineMs)} (${errorMessage(e)})` +
        (users.length > 0 ? `; used by DMS endpoint(s) ${users.join(', ')}` : '') +
        '. Point those endpoints\' certificateArn to another certificate or delete them first, then delete again; ' +
        'or set removalPolicy to RETAIN to leave the certificate in DMS.');
    } else {
      throw e;
    }
  }
  return { PhysicalResourceId: arn };
}

async function ownershipForDelete(arn: string, owner: Owner): Promise<Ownership | 'gone'> {
  try {
    return ownershipOf(await listTags(arn), owner);
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundFault') {
      return 'gone';
    }
    throw e;
  }
}

/** The DMS certificate whose `filter` (`certificate-id` or `certificate-arn`) is `value`, if any. */
async function findCertificate(filter: 'certificate-id' | 'certificate-arn', value: string): Promise<Certificate | undefined> {
  try {
    const response = await dms.call('DescribeCertificates', ({ sdk, client }) => client.send(new sdk.DescribeCertificatesCommand({
      Filters: [{ Name: filter, Values: [value] }],
    })));
    return (response.Certificates ?? []).find(c =>
      filter === 'certificate-id' ? c.CertificateIdentifier === value : c.CertificateArn === value);
  } catch (e) {
    // DMS answers a filter that matches nothing with ResourceNotFoundFault.
    if (errorName(e) === 'ResourceNotFoundFault') {
      return undefined;
    }
    throw e;
  }
}

/** Identifiers of the endpoints that use `arn` (best effort: only to say what holds it). */
async function endpointsUsing(arn: string): Promise<string[]> {
  const users: string[] = [];
  try {
    let marker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const response = await dms.call('DescribeEndpoints', ({ sdk, client }) => client.send(new sdk.DescribeEndpointsCommand({ Marker: marker, MaxRecords: 100 })));
      for (const endpoint of response.Endpoints ?? []) {
        if (endpoint.CertificateArn === arn) {
          users.push(endpoint.EndpointIdentifier ?? endpoint.EndpointArn ?? '(unnamed)');
        }
      }
      marker = response.Marker;
      if (!marker) {
        break;
      }
    }
  } catch (e) {
    log('warn', 'could not list the endpoints that use the certificate', { certificateArn: arn, error: errorName(e) });
  }
  return users;
}

/**
 * Whether DMS holds the desired content: PEM certificates compared by fingerprint, wallets byte
 * for byte. `unknown` when DMS does not return the content.
 */
export function sameContent(existing: Certificate, desired: Desired): 'same' | 'different' | 'unknown' {
  if (desired.pem !== undefined) {
    if (existing.CertificatePem === undefined) {
      return existing.CertificateWallet !== undefined ? 'different' : 'unknown';
    }
    const a = fingerprints(existing.CertificatePem);
    const b = fingerprints(desired.pem);
    return a !== undefined && a === b ? 'same' : 'different';
  }
  if (existing.CertificateWallet === undefined) {
    return existing.CertificatePem !== undefined ? 'different' : 'unknown';
  }
  return Buffer.from(existing.CertificateWallet).equals(Buffer.from(desired.wallet!)) ? 'same' : 'different';
}

function fingerprints(pem: string): string | undefined {
  try {
    return parseCertificates(pem, 'certificatePem').map(c => c.fingerprint256).join(',');
  } catch {
    return undefined;
  }
}

/** When the certificate (a bundle: its first certificate to expire) stops being valid, if known. */
function notAfterOf(certificate: Certificate, desired: Desired): Date | undefined {
  const times = [
    certificate.ValidToDate === undefined ? NaN : new Date(certificate.ValidToDate).getTime(),
    desired.pem === undefined ? NaN : earliestNotAfter(desired.pem, 'certificatePem').getTime(),
  ].filter(t => !Number.isNaN(t));
  return times.length === 0 ? undefined : new Date(Math.min(...times));
}

function respond(certificate: Certificate, desired: Desired): OnEventResponse {
  const notices = desired.notifyDaysBefore.length === 0 ? {} : expiryNoticeData(notAfterOf(certificate, desired), desired.notifyDaysBefore,
    desired.pem === undefined ? 'certificateWallet' : 'certificatePem');
  const data: DmsCertificateResourceAttributes = {
    CertificateArn: certificate.CertificateArn ?? '',
    CertificateIdentifier: certificate.CertificateIdentifier ?? '',
    ValidFromDate: isoDate(certificate.ValidFromDate),
    ValidToDate: isoDate(certificate.ValidToDate),
    SigningAlgorithm: certificate.SigningAlgorithm ?? '',
    KeyLength: certificate.KeyLength === undefined ? '' : String(certificate.KeyLength),
    CertificateOwner: certificate.CertificateOwner ?? '',
  };
  return { PhysicalResourceId: certificate.CertificateArn!, Data: { ...notices, ...data } };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}
