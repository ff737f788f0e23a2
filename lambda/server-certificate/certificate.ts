import type { ServerCertificate, ServerCertificateMetadata, Tag } from '@aws-sdk/client-iam';
import type { MaterialSource } from '../../src/contract/material-source';
import {
  CERTIFICATE_BODY_MAX_LENGTH,
  CERTIFICATE_CHAIN_MAX_LENGTH,
  PRIVATE_KEY_MAX_LENGTH,
  SERVER_CERTIFICATE_NAME_MAX_LENGTH,
  ServerCertificateResourceAttributes,
  ServerCertificateResourceProperties,
  serverCertificateNameProblem,
  serverCertificatePathProblem,
} from '../../src/contract/server-certificate';
import {
  checkCertificateBody,
  checkCertificateChain,
  checkDates,
  checkPrivateKeyMatchesCertificate,
  parseCertificates,
} from '../../src/contract/x509';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { service } from '../shared/clients';
import { durationText, isoDate } from '../shared/dates';
import { asInputError, InputError, errorMessage, errorName, translateError } from '../shared/errors';
import { earliestNotAfter, expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { parseMaterialSource, readMaterial } from '../shared/material';
import { assertAdoptable, assertUpdatable, mayDelete, Owner, ownedName, ownershipOf, withOwnerTags } from '../shared/ownership';
import { retryWhile } from '../shared/retry';

/** IAM, made on first use; its own server faults and concurrent changes are retried too. */
const iam = service({
  load: () => import('@aws-sdk/client-iam'),
  client: (sdk) => new sdk.IAMClient({}),
  retryOn: ['ServiceFailureException', 'ConcurrentModificationException'],
});

/** How long a delete waits for load balancers and distributions to let go of a certificate. */
export const settings = {
  deleteConflictDeadlineMs: 10 * 60_000,
  deleteConflictIntervalMs: 15_000,
};

type Event = OnEventRequest<ServerCertificateResourceProperties>;

/** What the resource should be, with the material read and checked. */
interface Desired {
  readonly name: string;
  readonly path: string;
  readonly body: string;
  readonly chain?: string;
  readonly privateKey: string;
  /** The user's tags and the ownership tags. */
  readonly tags: Tag[];
  readonly owner: Owner;
  /** The name was chosen by the user (a new body cannot reuse it). */
  readonly fixedName: boolean;
  /** Day counts of the expiry notices to time (notifyBeforeExpiry). */
  readonly notifyDaysBefore: number[];
}

const ERRORS = {
  LimitExceededException: () =>
    'the account has reached its quota of IAM server certificates; delete unused ones or ask for a higher quota',
  InvalidInputException: (e: unknown) =>
    `IAM rejected the request: ${errorMessage(e)}; check serverCertificateName, path and the PEM inputs`,
  MalformedCertificateException: (e: unknown) =>
    `IAM cannot use certificateBody or certificateChain: ${errorMessage(e)}; pass PEM certificates, the chain ordered from the issuer to the root`,
  KeyPairMismatchException: () =>
    'privateKey does not match the public key of certificateBody; pass the key the certificate was issued for',
  EntityAlreadyExistsException: () =>
    'serverCertificateName is taken by another IAM server certificate; choose another name or omit it',
  ConcurrentModificationException: () =>
    'another request changed IAM at the same time; deploy again',
  ServiceFailureException: () => 'IAM failed to process the request; deploy again later',
};

/** The error CloudFormation shows: a service error explained for the property at fault. */
export function serverCertificateError(e: unknown, event: OnEventRequest<unknown>): Error {
  return translateError(e, ERRORS, event.RequestType === 'Delete' ? 'delete' : 'ServerCertificate');
}

/** `Custom::ServerCertificate`. */
export const serverCertificate: ResourceLifecycle<ServerCertificateResourceProperties> = {
  create: async (event) => create(await desiredState(event.ResourceProperties, event)),
  update,
  delete: remove,
};

/**
 * Reads the material and applies every content rule before anything is written. Dates are
 * checked only before an upload ({@link create}): an update of tags or path, or back to a
 * certificate IAM still holds (a rollback), succeeds even when the certificate has expired.
 */
export async function desiredState(props: ServerCertificateResourceProperties, owner: Owner): Promise<Desired> {
  const notifyDaysBefore = parseNotifyDaysBefore(props.NotifyDaysBefore);
  const body = await readMaterial(parseMaterialSource(props.CertificateBody, 'certificateBody'), 'certificateBody');
  const chainSource: MaterialSource | undefined = props.CertificateChain === undefined
    ? undefined
    : parseMaterialSource(props.CertificateChain, 'certificateChain');
  const chain = chainSource ? await readMaterial(chainSource, 'certificateChain') : undefined;
  const privateKey = await readMaterial(parseMaterialSource(props.PrivateKey, 'privateKey'), 'privateKey');

  checkLength('certificateBody', body, CERTIFICATE_BODY_MAX_LENGTH);
  checkLength('privateKey', privateKey, PRIVATE_KEY_MAX_LENGTH);
  if (chain !== undefined) {
    checkLength('certificateChain', chain, CERTIFICATE_CHAIN_MAX_LENGTH);
  }
  asInputError(() => {
    checkCertificateBody(body, 'certificateBody', { dates: false });
    if (chain !== undefined && chain.trim().length > 0) {
      checkCertificateChain(chain, 'certificateChain', body, { dates: false });
    }
    checkPrivateKeyMatchesCertificate(privateKey, body, 'privateKey');
  });

  const forCloudFront = props.ForCloudFront === 'true';
  const pathProblem = serverCertificatePathProblem(props.Path, forCloudFront);
  if (pathProblem) {
    throw new InputError('path', pathProblem);
  }
  let name: string;
  if (props.ServerCertificateName !== undefined && props.ServerCertificateName !== '') {
    name = props.ServerCertificateName;
    const problem = serverCertificateNameProblem(name);
    if (problem) {
      throw new InputError('serverCertificateName', problem);
    }
  } else {
    name = ownedName(owner, props.NamePrefix ?? 'cert', [...fingerprints(body), '|', ...fingerprints(chain)], {
      maxLength: SERVER_CERTIFICATE_NAME_MAX_LENGTH,
    });
  }
  return {
    name,
    path: props.Path,
    body,
    chain: chain !== undefined && chain.trim().length > 0 ? chain : undefined,
    privateKey,
    tags: withOwnerTags(props.Tags ?? [], owner),
    owner,
    fixedName: props.ServerCertificateName !== undefined && props.ServerCertificateName !== '',
    notifyDaysBefore,
  };
}

async function create(desired: Desired): Promise<OnEventResponse> {
  const existing = await getCertificate(desired.name);
  if (existing) {
    // A retried Create (or a rollback to a certificate IAM still holds) finds its own upload: no
    // date check, nothing uploaded. Never what another stack or resource owns.
    assertAdoptable(ownershipOf(existing.Tags, desired.owner), `the IAM server certificate '${desired.name}'`, 'serverCertificateName');
    if (!sameContent(existing, desired)) {
      throw new InputError('serverCertificateName',
        `an IAM server certificate named '${desired.name}' already exists with a different certificate; choose another serverCertificateName, or omit it to have one generated`);
    }
    log('info', 'adopting the server certificate this resource uploaded earlier', { serverCertificateName: desired.name });
    return reconcile(existing, desired);
  }
  checkDatesBeforeUpload(desired);
  try {
    // Tags go with the upload, so nothing is left half-created if a later call fails.
    const response = await iam.call('UploadServerCertificate', ({ sdk, client }) => client.send(new sdk.UploadServerCertificateCommand({
      ServerCertificateName: desired.name,
      Path: desired.path,
      CertificateBody: desired.body,
      CertificateChain: desired.chain,
      PrivateKey: desired.privateKey,
      Tags: desired.tags.length > 0 ? desired.tags : undefined,
    })));
    log('info', 'uploaded server certificate', { serverCertificateName: desired.name, path: desired.path });
    return respond(response.ServerCertificateMetadata!, desired);
  } catch (e) {
    if (errorName(e) !== 'EntityAlreadyExistsException') {
      throw e;
    }
    // Uploaded meanwhile by a concurrent attempt: the same rules as above.
    const raced = await getCertificate(desired.name);
    if (!raced) {
      throw e;
    }
    assertAdoptable(ownershipOf(raced.Tags, desired.owner), `the IAM server certificate '${desired.name}'`, 'serverCertificateName');
    if (!sameContent(raced, desired)) {
      throw new InputError('serverCertificateName',
        `an IAM server certificate named '${desired.name}' already exists with a different certificate; choose another serverCertificateName, or omit it to have one generated`);
    }
    return reconcile(raced, desired);
  }
}

/** Expired or not-yet-valid material is never uploaded; expiring soon is a warning. */
function checkDatesBeforeUpload(desired: Desired): void {
  asInputError(() => {
    const warnings = checkDates(desired.body, 'certificateBody');
    if (desired.chain !== undefined) {
      warnings.push(...checkDates(desired.chain, 'certificateChain'));
    }
    for (const warning of warnings) {
      log('warn', warning);
    }
  });
}

async function update(event: Event): Promise<OnEventResponse> {
  const desired = await desiredState(event.ResourceProperties, event);
  const oldName = event.PhysicalResourceId!;
  if (desired.name !== oldName) {
    // New body, chain or name: upload a new certificate; CloudFormation then deletes the old one.
    return create(desired);
  }
  const existing = await getCertificate(desired.name);
  if (!existing) {
    log('warn', 'the server certificate is gone; uploading it again', { serverCertificateName: desired.name });
    return create(desired);
  }
  assertUpdatable(ownershipOf(existing.Tags, desired.owner), `the IAM server certificate '${desired.name}'`);
  if (!sameContent(existing, desired)) {
    throw new InputError('serverCertificateName',
      `is fixed to '${desired.name}', and IAM cannot change the certificate of an existing name; give a new serverCertificateName with the new certificate, or omit it to have one generated`);
  }
  return reconcile(existing, desired);
}

/** Brings path and tags in line, writing only what differs. */
async function reconcile(existing: ServerCertificate, desired: Desired): Promise<OnEventResponse> {
  const name = desired.name;
  let metadata = existing.ServerCertificateMetadata!;
  if (metadata.Path !== desired.path) {
    await iam.call('UpdateServerCertificate', ({ sdk, client }) => client.send(new sdk.UpdateServerCertificateCommand({
      ServerCertificateName: name,
      NewPath: desired.path,
    })));
    log('info', 'moved server certificate', { serverCertificateName: name, from: metadata.Path, to: desired.path });
    metadata = (await getCertificate(name))!.ServerCertificateMetadata!;
  }

  const current = new Map((existing.Tags ?? []).map(t => [t.Key!, t.Value ?? '']));
  const wanted = new Map(desired.tags.map(t => [t.Key!, t.Value ?? '']));
  const removed = [...current.keys()].filter(k => !wanted.has(k));
  const changed = [...wanted.entries()].filter(([k, v]) => current.get(k) !== v);
  if (removed.length > 0) {
    await iam.call('UntagServerCertificate', ({ sdk, client }) => client.send(new sdk.UntagServerCertificateCommand({
      ServerCertificateName: name,
      TagKeys: removed,
    })));
  }
  if (changed.length > 0) {
    await iam.call('TagServerCertificate', ({ sdk, client }) => client.send(new sdk.TagServerCertificateCommand({
      ServerCertificateName: name,
      Tags: changed.map(([Key, Value]) => ({ Key, Value })),
    })));
  }
  if (removed.length + changed.length > 0) {
    log('info', 'updated tags', { serverCertificateName: name, removed: removed.length, set: changed.length });
  }
  return respond(metadata, desired);
}

async function remove(event: Event): Promise<OnEventResponse> {
  const name = event.PhysicalResourceId!;
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'retaining server certificate (removalPolicy RETAIN)', { serverCertificateName: name });
    return { PhysicalResourceId: name };
  }
  if (serverCertificateNameProblem(name)) {
    // Not a name IAM could hold (e.g. the id of a create that failed): nothing to delete.
    log('info', 'nothing to delete', { physicalResourceId: name });
    return { PhysicalResourceId: name };
  }
  // The physical ID is only ever a certificate this resource uploaded or adopted as its own, so
  // the tags GetServerCertificate returns are enough here (no ListServerCertificateTags): they
  // guard against a certificate another stack owns all the same.
  const existing = await getCertificate(name, false);
  if (!existing) {
    log('info', 'server certificate already gone', { serverCertificateName: name });
    return { PhysicalResourceId: name };
  }
  if (!mayDelete(ownershipOf(existing.Tags, event), `the IAM server certificate '${name}'`)) {
    return { PhysicalResourceId: name };
  }
  try {
    await retryWhile(
      'DeleteServerCertificate',
      () => iam.call('DeleteServerCertificate', ({ sdk, client }) => client.send(new sdk.DeleteServerCertificateCommand({ ServerCertificateName: name }))),
      e => errorName(e) === 'DeleteConflictException',
      { deadlineMs: settings.deleteConflictDeadlineMs, intervalMs: settings.deleteConflictIntervalMs },
    );
    log('info', 'deleted server certificate', { serverCertificateName: name });
  } catch (e) {
    const errorCode = errorName(e);
    if (errorCode === 'NoSuchEntityException') {
      log('info', 'server certificate already gone', { serverCertificateName: name });
    } else if (errorCode === 'DeleteConflictException') {
      throw new Error(
        `serverCertificateName '${name}' is still in use after ${durationText(settings.deleteConflictDeadlineMs)} (${errorMessage(e)}). ` +
        'Detach it from the load balancer listeners or CloudFront distributions named above (or remove those from the stack first), then delete again.');
    } else {
      throw e;
    }
  }
  return { PhysicalResourceId: name };
}

/** The certificate and its tags (listed when GetServerCertificate leaves them out and `listTags`). */
async function getCertificate(name: string, listTags = true): Promise<ServerCertificate | undefined> {
  try {
    const response = await iam.call('GetServerCertificate', ({ sdk, client }) => client.send(new sdk.GetServerCertificateCommand({ ServerCertificateName: name })));
    const certificate = response.ServerCertificate!;
    if (certificate.Tags === undefined && listTags) {
      const tags = await iam.call('ListServerCertificateTags', ({ sdk, client }) => client.send(new sdk.ListServerCertificateTagsCommand({ ServerCertificateName: name })));
      return { ...certificate, Tags: tags.Tags ?? [] };
    }
    return certificate;
  } catch (e) {
    if (errorName(e) === 'NoSuchEntityException') {
      return undefined;
    }
    throw e;
  }
}

function respond(metadata: ServerCertificateMetadata, desired: Desired): OnEventResponse {
  const data: ServerCertificateResourceAttributes = {
    // IAM's Expiration is the body's notAfter (already parsed, so nothing fails after the upload).
    ...expiryNoticeData(metadata.Expiration ?? earliestNotAfter(desired.body, 'certificateBody'), desired.notifyDaysBefore, 'certificateBody'),
    Arn: metadata.Arn!,
    ServerCertificateName: metadata.ServerCertificateName!,
    ServerCertificateId: metadata.ServerCertificateId!,
    Path: metadata.Path!,
    Expiration: isoDate(metadata.Expiration),
    UploadDate: isoDate(metadata.UploadDate),
  };
  return { PhysicalResourceId: metadata.ServerCertificateName!, Data: data };
}

function sameContent(existing: ServerCertificate, desired: Desired): boolean {
  const same = (a: string | undefined, b: string | undefined) => fingerprints(a).join() === fingerprints(b).join();
  return same(existing.CertificateBody, desired.body) && same(existing.CertificateChain, desired.chain);
}

/** Fingerprints identify certificates whatever the PEM's line endings or wrapping. */
function fingerprints(pem: string | undefined): string[] {
  if (pem === undefined || pem.trim().length === 0) {
    return [];
  }
  return asInputError(() => parseCertificates(pem, 'certificate').map(c => c.fingerprint256));
}

function checkLength(property: string, value: string, max: number): void {
  if (value.length < 1 || value.length > max) {
    throw new InputError(property, `must be 1 to ${max} characters long, got ${value.length}`);
  }
}
