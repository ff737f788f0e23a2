import type { Tag } from '@aws-sdk/client-lightsail';
import { failureError } from './failure';
import {
  LightsailCertificate,
  describeCertificateUsers,
  getCertificate,
  lightsail,
  lightsailError,
  regionOfArn,
} from './lightsail';
import { certificateData, ValidationRecord, validationRecords } from './records';
import {
  CERTIFICATE_NAME_HASH_LENGTH,
  DOMAIN_NAME_MAX_LENGTH,
  GENERATED_NAME_MAX_LENGTH,
  MAX_SUBJECT_ALTERNATIVE_NAMES,
  SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH,
  certificateNameProblem,
  domainNameProblem,
  normalizeDomain,
  regionProblem,
} from '../../src/contract/lightsail-certificate';
import type { LightsailCertificateResourceProperties } from '../../src/contract/lightsail-certificate';
import { joinProblems } from '../../src/contract/problems';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { durationText } from '../shared/dates';
import { InputError, errorMessage, errorName } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { assertAdoptable, assertUpdatable, mayDelete, Owner, ownedName, ownershipOf, withOwnerTags } from '../shared/ownership';
import { retryWhile } from '../shared/retry';

/** Timing of the waits inside onEvent; tests shorten nothing here, they control the clock. */
export const certificateTiming = {
  /** How long onEvent waits for Lightsail to publish the validation records after CreateCertificate. */
  recordsDeadlineMs: 60_000,
  recordsIntervalMs: 3_000,
  /** How long Delete retries while the certificate is still attached (detaching takes a while). */
  inUseDeadlineMs: 5 * 60_000,
  inUseIntervalMs: 15_000,
};

const CONTEXT = 'LightsailCertificate';
const INPUT_HINT = 'check domainName, subjectAlternativeNames and certificateName';

/** What the properties ask for, checked and normalized. */
export interface DesiredCertificate {
  readonly region: string;
  readonly name: string;
  /** Whether the user chose the name (a fixed name cannot take new domains). */
  readonly userNamed: boolean;
  readonly domainName: string;
  /** Without the domain name, distinct, in the given order. */
  readonly subjectAlternativeNames: string[];
  /** The distinct domains in record order: the domain name, then the alternative names. */
  readonly domains: string[];
  /** The user's tags and the ownership tags. */
  readonly tags: Tag[];
  readonly owner: Owner;
}

/**
 * Checks the properties (values that were tokens at synth are first seen here) and works out the
 * certificate name. Throws InputError before anything is written.
 */
export function desiredCertificate(props: LightsailCertificateResourceProperties, owner: Owner): DesiredCertificate {
  const region = String(props.Region ?? '');
  const regionIssue = regionProblem(region);
  if (regionIssue) {
    throw new InputError('region', regionIssue);
  }
  const rawDomain = String(props.DomainName ?? '');
  const domainIssue = domainNameProblem(rawDomain, DOMAIN_NAME_MAX_LENGTH);
  if (domainIssue) {
    throw new InputError('domainName', domainIssue);
  }
  const domainName = normalizeDomain(rawDomain);
  const given = props.SubjectAlternativeNames === undefined ? [] : props.SubjectAlternativeNames;
  if (!Array.isArray(given)) {
    throw new InputError('subjectAlternativeNames', 'must be a list of domain names');
  }
  const subjectAlternativeNames: string[] = [];
  // Every problem of the list in one error.
  const issues: Array<string | undefined> = [];
  for (const raw of given.map(String)) {
    const issue = domainNameProblem(raw, SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH);
    if (issue) {
      issues.push(issue);
      continue;
    }
    const san = normalizeDomain(raw);
    if (san === domainName) {
      // The domain name is always covered; listing it again is allowed and not counted.
      continue;
    }
    if (subjectAlternativeNames.includes(san)) {
      issues.push(`'${raw}' is listed twice; list each domain once`);
      continue;
    }
    subjectAlternativeNames.push(san);
  }
  const sanIssue = joinProblems(issues);
  if (sanIssue) {
    throw new InputError('subjectAlternativeNames', sanIssue);
  }
  if (subjectAlternativeNames.length > MAX_SUBJECT_ALTERNATIVE_NAMES) {
    throw new InputError('subjectAlternativeNames', `at most ${MAX_SUBJECT_ALTERNATIVE_NAMES} names besides domainName, got ${subjectAlternativeNames.length}`);
  }

  const expected = props.RecordCount === undefined ? undefined : Number(props.RecordCount);
  if (expected !== undefined && expected !== 1 + subjectAlternativeNames.length) {
    throw new InputError('subjectAlternativeNames', `a name known only at deploy repeats domainName (${domainName}); list each domain once, since one validation record per domain is indexed at synth`);
  }

  let name: string;
  const userNamed = props.CertificateName !== undefined && props.CertificateName !== '';
  if (userNamed) {
    name = String(props.CertificateName);
    const nameIssue = certificateNameProblem(name);
    if (nameIssue) {
      throw new InputError('certificateName', nameIssue);
    }
  } else {
    if (!props.NamePrefix) {
      throw new InputError('certificateName', 'neither a name nor a name prefix was given (construct and handler versions differ?)');
    }
    // The set of domains decides the name: a new domain means a new certificate (and a new name,
    // so it never clashes with the one it replaces); reordering the alternative names does not.
    // The stack ID too: distribution certificates of every region's stacks live in us-east-1.
    const hashInput = [domainName, ...[...subjectAlternativeNames].sort()].join('\u0000');
    name = ownedName(owner, String(props.NamePrefix), [hashInput], {
      maxLength: GENERATED_NAME_MAX_LENGTH,
      hashLength: CERTIFICATE_NAME_HASH_LENGTH,
    });
  }

  const tags = withOwnerTags((props.Tags ?? []).map((t) => ({ Key: String(t.Key), Value: String(t.Value ?? '') })), owner)
    .map((t) => ({ key: t.Key, value: t.Value }));
  return {
    owner,
    region,
    name,
    userNamed,
    domainName,
    subjectAlternativeNames,
    domains: [domainName, ...subjectAlternativeNames],
    tags,
  };
}

/** The set of domains the certificate covers, normalized: what must match to adopt or update in place. */
function domainSet(domainName: string | undefined, sans: readonly string[] | undefined): string[] {
  const all = new Set<string>();
  if (domainName) {
    all.add(normalizeDomain(domainName));
  }
  for (const san of sans ?? []) {
    all.add(normalizeDomain(san));
  }
  return [...all].sort();
}

function sameDomains(cert: LightsailCertificate, desired: DesiredCertificate): boolean {
  return cert.domainName !== undefined
    && normalizeDomain(cert.domainName) === desired.domainName
    && JSON.stringify(domainSet(cert.domainName, cert.subjectAlternativeNames))
      === JSON.stringify(domainSet(desired.domainName, desired.subjectAlternativeNames));
}

/** `Custom::LightsailCertificate`: requests the certificate and returns its validation records at once. */
export const lightsailCertificate: ResourceLifecycle<LightsailCertificateResourceProperties> = {
  create: async (event) => createCertificate(desiredCertificate(event.ResourceProperties, event)),
  update: updateCertificate,
  delete: deleteCertificate,
};

async function createCertificate(desired: DesiredCertificate): Promise<OnEventResponse> {
  const where = `${CONTEXT} '${desired.name}' in ${desired.region}`;
  let created = false;
  const existing = await getCertificate(desired.region, desired.name, where);
  if (existing) {
    await adopt(existing, desired, where);
  } else {
    try {
      await lightsail.call('lightsail:CreateCertificate', ({ sdk, client }) => client.send(new sdk.CreateCertificateCommand({
        certificateName: desired.name,
        domainName: desired.domainName,
        subjectAlternativeNames: desired.subjectAlternativeNames.length > 0 ? desired.subjectAlternativeNames : undefined,
        tags: desired.tags.length > 0 ? desired.tags : undefined,
      })), { region: desired.region });
      created = true;
      log('info', 'created certificate', { certificateName: desired.name, region: desired.region, domains: desired.domains });
    } catch (e) {
      // A Create retried while the first attempt's certificate was not yet listed: adopt it.
      const raced = errorName(e) === 'InvalidInputException' && /already exist/i.test(errorMessage(e))
        ? await getCertificate(desired.region, desired.name, where)
        : undefined;
      if (!raced) {
        throw lightsailError(e, `${where}: CreateCertificate`, INPUT_HINT);
      }
      await adopt(raced, desired, where);
    }
  }

  try {
    const { certificate, records } = await waitForRecords(desired, where);
    return { PhysicalResourceId: certificate.arn, Data: certificateData(certificate, records) };
  } catch (e) {
    if (created) {
      // CloudFormation never sends a Delete for a failed Create (the Provider framework marks its
      // physical ID as failed), so remove what this attempt made rather than leave it behind.
      await deleteQuietly(desired, where);
    }
    throw e;
  }
}

async function adopt(existing: LightsailCertificate, desired: DesiredCertificate, where: string): Promise<void> {
  // A retried Create finds what it made; never what another stack or resource owns.
  assertAdoptable(ownershipOf(existing.tags, desired.owner), `the Lightsail certificate '${desired.name}' in ${desired.region}`, 'certificateName');
  if (!sameDomains(existing, desired)) {
    const theirs = domainSet(existing.domainName, existing.subjectAlternativeNames).join(', ');
    throw new InputError('certificateName', `a certificate named '${desired.name}' already exists in ${desired.region} for other domains (${theirs}); Lightsail names are unique per region, so choose another certificateName${desired.userNamed ? '' : ' (or move the construct)'} or delete that certificate`);
  }
  log('info', 'adopting the certificate an earlier attempt created', { certificateName: desired.name, region: desired.region });
  await reconcileTags(existing, desired, undefined, where);
}

async function deleteQuietly(desired: DesiredCertificate, where: string): Promise<void> {
  try {
    await lightsail.call('lightsail:DeleteCertificate', ({ sdk, client }) => client.send(new sdk.DeleteCertificateCommand({ certificateName: desired.name })), { region: desired.region });
    log('info', 'deleted the certificate this failed create made', { certificateName: desired.name, region: desired.region });
  } catch (e) {
    log('error', 'could not delete the certificate this failed create made; delete it by hand', { where, error: e });
  }
}

class RecordsPending extends Error {
  constructor(public readonly missing: string[]) {
    super(`validation records not yet published for ${missing.join(', ')}`);
    this.name = 'RecordsPending';
  }
}

/**
 * Lightsail publishes the validation records a few seconds after CreateCertificate: poll briefly.
 * Never waits for ISSUED (that needs the DNS records, which depend on this resource).
 */
interface CertificateWithRecords {
  readonly certificate: LightsailCertificate;
  readonly records: ValidationRecord[];
}

async function waitForRecords(desired: DesiredCertificate, where: string): Promise<CertificateWithRecords> {
  try {
    return await retryWhile('lightsail:GetCertificates (validation records)', async () => {
      const certificate = await getCertificate(desired.region, desired.name, where);
      if (!certificate) {
        throw new RecordsPending(desired.domains);
      }
      if (certificate.status === 'FAILED') {
        throw failureError(certificate, where);
      }
      const found = validationRecords(certificate, desired.domains);
      if (found.missing.length > 0) {
        throw new RecordsPending(found.missing);
      }
      return { certificate, records: found.records };
    }, (e) => e instanceof RecordsPending, {
      deadlineMs: certificateTiming.recordsDeadlineMs,
      intervalMs: certificateTiming.recordsIntervalMs,
    });
  } catch (e) {
    if (e instanceof RecordsPending) {
      throw new Error(`${where}: Lightsail did not publish the DNS validation records for ${e.missing.join(', ')} within ${Math.round(certificateTiming.recordsDeadlineMs / 1000)} seconds of CreateCertificate; deploy again (the certificate is requested anew)`);
    }
    throw e;
  }
}

async function updateCertificate(event: OnEventRequest<LightsailCertificateResourceProperties>): Promise<OnEventResponse> {
  const desired = desiredCertificate(event.ResourceProperties, event);
  let previous: DesiredCertificate | undefined;
  try {
    previous = event.OldResourceProperties ? desiredCertificate(event.OldResourceProperties, event) : undefined;
  } catch {
    // Old properties that no longer pass the checks cannot describe a live certificate.
    previous = undefined;
  }
  const where = `${CONTEXT} '${desired.name}' in ${desired.region}`;
  const sameCertificate = previous !== undefined
    && previous.region === desired.region
    && previous.name === desired.name
    && previous.domainName === desired.domainName
    && JSON.stringify([...previous.subjectAlternativeNames].sort()) === JSON.stringify([...desired.subjectAlternativeNames].sort());

  if (!sameCertificate) {
    if (previous && previous.region === desired.region && previous.name === desired.name) {
      throw new InputError('certificateName', `'${desired.name}' is fixed, so the certificate cannot take new domains: Lightsail cannot hold two certificates of one name in a region, and CloudFormation creates the new one before deleting the old; change certificateName too, or omit it`);
    }
    // New domains, name or region: a new certificate (new physical ID); CloudFormation deletes the old.
    return createCertificate(desired);
  }

  const current = await getCertificate(desired.region, desired.name, where);
  if (!current) {
    // Deleted outside CloudFormation: the name is free again, so request it anew.
    log('warn', 'the certificate is gone; requesting it again', { certificateName: desired.name, region: desired.region });
    return createCertificate(desired);
  }
  assertUpdatable(ownershipOf(current.tags, desired.owner), `the Lightsail certificate '${desired.name}' in ${desired.region}`);
  await reconcileTags(current, desired, previous, where);
  const found = validationRecords(current, desired.domains);
  if (found.missing.length > 0) {
    const waited = await waitForRecords(desired, where);
    return { PhysicalResourceId: waited.certificate.arn, Data: certificateData(waited.certificate, waited.records) };
  }
  return { PhysicalResourceId: current.arn, Data: certificateData(current, found.records) };
}

/**
 * Makes the certificate's tags match: sets what differs, removes the keys the previous properties
 * set and the new ones drop (tags added outside the stack are left alone). No call when nothing differs.
 */
async function reconcileTags(
  current: LightsailCertificate,
  desired: DesiredCertificate,
  previous: DesiredCertificate | undefined,
  where: string,
): Promise<void> {
  const actual = new Map((current.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
  const wanted = new Map(desired.tags.map((t) => [t.key ?? '', t.value ?? '']));
  const toSet = desired.tags.filter((t) => actual.get(t.key ?? '') !== (t.value ?? '') || !actual.has(t.key ?? ''));
  const toRemove = (previous?.tags ?? [])
    .map((t) => t.key ?? '')
    .filter((k) => !wanted.has(k) && actual.has(k));
  if (toSet.length > 0) {
    try {
      await lightsail.call('lightsail:TagResource', ({ sdk, client }) => client.send(new sdk.TagResourceCommand({
        resourceName: current.name,
        resourceArn: current.arn,
        tags: toSet,
      })), { region: desired.region });
    } catch (e) {
      throw lightsailError(e, `${where}: TagResource`, 'check the tags (keys up to 128 and values up to 256 letters, digits, spaces or + - = . _ : / @)');
    }
  }
  if (toRemove.length > 0) {
    try {
      await lightsail.call('lightsail:UntagResource', ({ sdk, client }) => client.send(new sdk.UntagResourceCommand({
        resourceName: current.name,
        resourceArn: current.arn,
        tagKeys: toRemove,
      })), { region: desired.region });
    } catch (e) {
      throw lightsailError(e, `${where}: UntagResource`, 'check the tags');
    }
  }
  if (toSet.length > 0 || toRemove.length > 0) {
    log('info', 'updated tags', { certificateName: current.name, set: toSet.map((t) => t.key), removed: toRemove });
  }
}

function isInUse(e: unknown): boolean {
  return errorName(e) === 'InvalidInputException' && /in[\s-]?use|attached|associated/i.test(errorMessage(e));
}

async function deleteCertificate(event: OnEventRequest<LightsailCertificateResourceProperties>): Promise<OnEventResponse> {
  const physicalId = String(event.PhysicalResourceId ?? '');
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: keeping the certificate', { physicalId });
    return { PhysicalResourceId: physicalId };
  }
  const arnRegion = regionOfArn(physicalId);
  if (!arnRegion) {
    // Not a certificate ARN: the Create never completed (and cleaned up after itself).
    log('info', 'nothing to delete: the create did not complete', { physicalId });
    return { PhysicalResourceId: physicalId };
  }
  let desired: DesiredCertificate;
  try {
    desired = desiredCertificate(event.ResourceProperties, event);
  } catch (e) {
    log('warn', 'properties fail the checks, so they never made a certificate; nothing to delete', { error: e });
    return { PhysicalResourceId: physicalId };
  }
  const region = arnRegion;
  const where = `${CONTEXT} '${desired.name}' in ${region}`;
  const current = await getCertificate(region, desired.name, where);
  if (!current) {
    log('info', 'already gone', { certificateName: desired.name, region });
    return { PhysicalResourceId: physicalId };
  }
  if (current.arn !== physicalId) {
    // The name now belongs to another certificate (e.g. a replacement under the same name after
    // this one was deleted outside CloudFormation): never delete what this resource did not make.
    log('info', 'the certificate of this name is not this resource\'s; leaving it', { certificateName: desired.name, region });
    return { PhysicalResourceId: physicalId };
  }
  if (!mayDelete(ownershipOf(current.tags, event), `the Lightsail certificate '${desired.name}' in ${region}`)) {
    return { PhysicalResourceId: physicalId };
  }

  try {
    await retryWhile('lightsail:DeleteCertificate (in use)', async () => {
      try {
        await lightsail.call('lightsail:DeleteCertificate', ({ sdk, client }) => client.send(new sdk.DeleteCertificateCommand({ certificateName: desired.name })), { region });
      } catch (e) {
        if (errorName(e) === 'NotFoundException') {
          return;
        }
        throw e;
      }
    }, isInUse, { deadlineMs: certificateTiming.inUseDeadlineMs, intervalMs: certificateTiming.inUseIntervalMs });
  } catch (e) {
    if (isInUse(e)) {
      const users = await describeCertificateUsers(region, desired.name);
      const what = users.length > 0 ? users.join(' and ') : 'a Lightsail distribution or container service';
      throw new Error(`${where}: cannot be deleted while ${what} uses it (still in use after ${durationText(certificateTiming.inUseDeadlineMs)}); detach it there (or remove it from the container service's public domain names) and delete again, or set removalPolicy to RETAIN (${errorName(e)})`);
    }
    throw lightsailError(e, `${where}: DeleteCertificate`, INPUT_HINT);
  }
  log('info', 'deleted certificate', { certificateName: desired.name, region });
  return { PhysicalResourceId: physicalId };
}
