/**
 * `Custom::PrivateCaTrustBundle`: a CA's chain, from the CA to its root, as one PEM object in S3,
 * for mutual-TLS trust stores (ALB, API Gateway) that read a bundle from S3.
 *
 * The chain comes from the resource's properties: the template's own value of the CA certificate
 * (a root's `AWS::ACMPCA::Certificate`, a subordinate's activation `CompleteCertificateChain`). It
 * changes exactly when the CA certificate changes (a replaced CA, or a renewed certificate of the
 * same CA), so CloudFormation sends an Update exactly then, and no ACM Private CA call is needed.
 *
 * Rotation: the object keeps every certificate it has published that the chain no longer holds,
 * with the time it was first superseded (object metadata), until the overlap has passed; it is
 * dropped at the first update of the bundle after that (CloudFormation calls the handler only when
 * the bundle's properties change). A certificate of the current chain is never dropped.
 *
 * Ownership: the object carries the owning stack and logical ID in its metadata; a create adopts
 * only an object this resource wrote, an update or delete never touches one another stack wrote.
 */
import { createHash } from 'node:crypto';
import { checkedCaArn } from './pca';
import {
  PrivateCaTrustBundleResourceAttributes,
  PrivateCaTrustBundleResourceProperties,
  TRUST_BUNDLE_OBJECT_NAME,
  trustBundleKeyPrefixProblem,
  trustBundleOverlapProblem,
} from '../../src/contract/private-ca';
import { parseCertificates } from '../../src/contract/x509';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { service } from '../shared/clients';
import { asInputError, errorMessage, errorName, InputError, translateError } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';
import { assertAdoptable, assertUpdatable, mayDelete, Owner, Ownership, ownershipOf, OWNER_LOGICAL_ID_TAG, OWNER_STACK_TAG } from '../shared/ownership';

/** The handler's clock: tests move it forward (`offsetMs`) to pass an overlap. */
export const clock = { offsetMs: 0 };

const now = (): number => Date.now() + clock.offsetMs;

// A bucket the user gives may live in another region than the handler.
const s3 = service({
  load: () => import('@aws-sdk/client-s3'),
  client: (sdk) => new sdk.S3Client({ followRegionRedirects: true }),
});

type TrustBundleEvent = OnEventRequest<PrivateCaTrustBundleResourceProperties>;

/** User metadata of the bundle object (S3 lower-cases the names; `:` is not allowed in them). */
const META_STACK = OWNER_STACK_TAG.replace(':', '-');
const META_LOGICAL_ID = OWNER_LOGICAL_ID_TAG.replace(':', '-');
/** `<fingerprint>:<epoch seconds>` of each superseded certificate kept, comma-separated. */
const META_SUPERSEDED = 'cdk-certificates-superseded';
/** S3's limit on the user metadata of an object (names and values, in bytes). */
const METADATA_MAX_BYTES = 2048;
/** Hex characters of the SHA-256 fingerprint kept in the metadata (128 bits). */
const FINGERPRINT_CHARS = 32;

const ERRORS = {
  NoSuchBucket: () => 'the bucket does not exist; create it, or omit bucket to have one created',
  AccessDenied: () => 'the handler role may not use this object or bucket; check the bucket policy, its KMS key policy, permission boundaries and SCPs',
  AllAccessDisabled: () => 'all access to the bucket is disabled',
  KMS: (e: unknown) => `the bucket's KMS key refused the request (${errorMessage(e)})`,
  PermanentRedirect: () => 'the bucket is in another region and cannot be reached from the handler\'s region',
  InvalidBucketName: () => 'is not a valid S3 bucket name',
};

/** One certificate of a bundle. */
interface BundleCertificate {
  /** SHA-256 of the DER, hex. */
  readonly fingerprint: string;
  readonly pem: string;
  readonly notAfterMs: number;
}

interface Desired {
  readonly caArn: string;
  readonly chain: BundleCertificate[];
  readonly bucket: string;
  readonly key: string;
  readonly overlapMs: number;
  readonly retain: boolean;
}

/** The object as last published. */
interface Published {
  readonly versionId?: string;
  readonly body: string;
  readonly certificates: BundleCertificate[];
  /** Superseded fingerprints (the metadata's prefix of each) and when, in ms since the epoch. */
  readonly superseded: Map<string, number>;
  readonly supersededText: string;
  readonly ownership: Ownership;
}

function certificatesOf(pem: string, property: string, requireCa = false): BundleCertificate[] {
  const certificates = asInputError(() => parseCertificates(pem, property));
  const seen = new Set<string>();
  const out: BundleCertificate[] = [];
  for (const [i, cert] of certificates.entries()) {
    if (requireCa && !cert.ca) {
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject;
      throw new InputError(property, `certificate ${i + 1} (CN=${cn}) is not a CA certificate (basicConstraints CA:TRUE); `
        + 'a trust bundle holds the CA and its parents up to the root');
    }
    const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
    if (!seen.has(fingerprint)) {
      seen.add(fingerprint);
      out.push({ fingerprint, pem: cert.toString().replace(/\r\n?/g, '\n').trim() + '\n', notAfterMs: Date.parse(cert.validTo) });
    }
  }
  return out;
}

function parseProps(props: PrivateCaTrustBundleResourceProperties): Desired {
  const caArn = checkedCaArn(props.CertificateAuthorityArn);
  const chain = certificatesOf(String(props.CertificateChain ?? ''), 'certificateChain', true);
  const bucket = String(props.Bucket ?? '');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InputError('bucket', `'${bucket}' is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)`);
  }
  const key = String(props.Key ?? '');
  if (!key.endsWith(TRUST_BUNDLE_OBJECT_NAME)) {
    throw new InputError('keyPrefix', `the object key must end with '${TRUST_BUNDLE_OBJECT_NAME}', got '${key}'`);
  }
  const prefixProblem = trustBundleKeyPrefixProblem(key.slice(0, -TRUST_BUNDLE_OBJECT_NAME.length));
  if (prefixProblem) {
    throw new InputError('keyPrefix', prefixProblem);
  }
  const overlapSeconds = Number(props.OverlapSeconds);
  const overlapProblem = trustBundleOverlapProblem(overlapSeconds);
  if (overlapProblem) {
    throw new InputError('overlap', overlapProblem);
  }
  if (props.RemovalPolicy !== 'retain' && props.RemovalPolicy !== 'destroy') {
    throw new InputError('removalPolicy', `must be 'retain' or 'destroy', got ${JSON.stringify(props.RemovalPolicy)}`);
  }
  return { caArn, chain, bucket, key, overlapMs: overlapSeconds * 1000, retain: props.RemovalPolicy === 'retain' };
}

const uriOf = (bucket: string, key: string) => `s3://${bucket}/${key}`;

function parseUri(uri: string | undefined): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri ?? '');
  return match && match[2].endsWith(TRUST_BUNDLE_OBJECT_NAME) ? { bucket: match[1], key: match[2] } : undefined;
}

type S3Api = Parameters<Parameters<typeof s3.call>[1]>[0];

async function s3Call<T>(operation: string, context: string, fn: (api: S3Api) => Promise<T>): Promise<T> {
  try {
    return await s3.call(operation, fn);
  } catch (e) {
    const name = errorName(e);
    const table = name.startsWith('KMS') ? { [name]: ERRORS.KMS } : ERRORS;
    throw translateError(e, table, `${context} (${operation})`);
  }
}

/** Reads a body stream of the SDK as text. */
async function bodyText(body: unknown): Promise<string> {
  const stream = body as { transformToString?: () => Promise<string> } | undefined;
  return stream?.transformToString ? stream.transformToString() : String(body ?? '');
}

function parseSuperseded(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of text.split(',')) {
    const match = /^([0-9a-f]{8,64}):(\d{1,12})$/.exec(entry.trim());
    if (match) {
      out.set(match[1], Number(match[2]) * 1000);
    }
  }
  return out;
}

/**
 * The object as last published, or undefined when there is none. It is listed first: without
 * s3:ListBucket on the whole bucket S3 answers a missing key with AccessDenied, and the handler's
 * s3:ListBucket is limited to this key's prefix.
 */
async function readPublished(desired: Pick<Desired, 'bucket' | 'key'>, owner: Owner): Promise<Published | undefined> {
  const { bucket, key } = desired;
  const context = `bucket (${uriOf(bucket, key)})`;
  const listed = await s3Call('ListObjectsV2', context, ({ sdk, client }) => client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 })));
  if (!(listed.Contents ?? []).some((o) => o.Key === key)) {
    return undefined;
  }
  let got;
  try {
    got = await s3.call('GetObject', ({ sdk, client }) => client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })));
  } catch (e) {
    if (errorName(e) === 'NoSuchKey') {
      return undefined;
    }
    throw translateError(e, ERRORS, `${context} (GetObject)`);
  }
  const body = await bodyText(got.Body);
  const metadata = got.Metadata ?? {};
  const tags = [
    ...(metadata[META_STACK] !== undefined ? [{ Key: OWNER_STACK_TAG, Value: metadata[META_STACK] }] : []),
    ...(metadata[META_LOGICAL_ID] !== undefined ? [{ Key: OWNER_LOGICAL_ID_TAG, Value: metadata[META_LOGICAL_ID] }] : []),
  ];
  let certificates: BundleCertificate[] = [];
  try {
    certificates = certificatesOf(body, 'the published bundle');
  } catch (e) {
    // Changed by hand: what it held cannot be kept, the chain is written again.
    log('warn', 'the published bundle is not a PEM certificate bundle; it is replaced', { uri: uriOf(bucket, key), error: errorMessage(e) });
  }
  const supersededText = metadata[META_SUPERSEDED] ?? '';
  return {
    versionId: got.VersionId,
    body,
    certificates,
    superseded: parseSuperseded(supersededText),
    supersededText,
    ownership: ownershipOf(tags, owner),
  };
}

/** What the next bundle holds: the chain, then superseded certificates still in their overlap. */
interface NextBundle {
  readonly body: string;
  readonly supersededText: string;
  readonly kept: number;
  readonly dropped: number;
}

/**
 * `previousChain` is the chain of the properties being replaced: kept like the published
 * certificates, so that a bundle that moves (a new bucket or key) or was deleted by hand still keeps
 * the chain it replaces for the overlap.
 */
function nextBundle(desired: Desired, published: Published | undefined, at: number, previousChain: BundleCertificate[] = []): NextBundle {
  const current = new Set(desired.chain.map((c) => c.fingerprint));
  const stillTrusted: Array<{ cert: BundleCertificate; since: number }> = [];
  const seen = new Set<string>();
  let dropped = 0;
  for (const cert of [...published?.certificates ?? [], ...previousChain]) {
    if (current.has(cert.fingerprint) || seen.has(cert.fingerprint)) {
      continue; // Current again (e.g. a rollback): never dropped, no longer superseded.
    }
    seen.add(cert.fingerprint);
    const since = published?.superseded.get(cert.fingerprint.slice(0, FINGERPRINT_CHARS)) ?? at;
    if (at - since >= desired.overlapMs || cert.notAfterMs <= at) {
      dropped++;
      continue;
    }
    stillTrusted.push({ cert, since });
  }
  // The most recently superseded first.
  stillTrusted.sort((a, b) => b.since - a.since);
  const body = [...desired.chain, ...stillTrusted.map((s) => s.cert)].map((c) => c.pem).join('');
  const supersededText = stillTrusted
    .map((s) => `${s.cert.fingerprint.slice(0, FINGERPRINT_CHARS)}:${Math.floor(s.since / 1000)}`)
    .join(',');
  return { body, supersededText, kept: stillTrusted.length, dropped };
}

function ownerMetadata(owner: Owner): Record<string, string> {
  return { [META_STACK]: owner.StackId, [META_LOGICAL_ID]: owner.LogicalResourceId };
}

/** Writes the bundle unless the object already holds it; returns the version in force. */
async function publish(desired: Desired, published: Published | undefined, owner: Owner, previousChain: BundleCertificate[] = []): Promise<string> {
  const uri = uriOf(desired.bucket, desired.key);
  const next = nextBundle(desired, published, now(), previousChain);
  const sameOwner = published?.ownership.kind === 'this';
  if (published && sameOwner && published.body === next.body && published.supersededText === next.supersededText
    && published.versionId && published.versionId !== 'null') {
    log('info', 'the trust bundle is unchanged', { uri, versionId: published.versionId, certificates: desired.chain.length + next.kept });
    return published.versionId;
  }
  const metadata: Record<string, string> = { ...ownerMetadata(owner) };
  if (next.supersededText !== '') {
    metadata[META_SUPERSEDED] = next.supersededText;
  }
  const metadataBytes = Object.entries(metadata).reduce((n, [k, v]) => n + Buffer.byteLength(k + v, 'utf8'), 0);
  if (metadataBytes > METADATA_MAX_BYTES) {
    throw new InputError('overlap', `the bundle would keep ${next.kept} superseded certificates, more than its S3 metadata (${METADATA_MAX_BYTES} bytes) can date; `
      + 'choose a shorter overlap');
  }
  // Trust stores pin a version of the bundle, so that a rotation updates them: an unversioned
  // bucket would overwrite the version they pin.
  const versioning = await s3Call('GetBucketVersioning', `bucket (${desired.bucket})`,
    ({ sdk, client }) => client.send(new sdk.GetBucketVersioningCommand({ Bucket: desired.bucket })));
  if (versioning.Status !== 'Enabled') {
    throw new InputError('bucket', `versioning is ${versioning.Status ?? 'not enabled'} on bucket ${desired.bucket}; trust stores pin a version of the bundle, `
      + 'so enable versioning on it (s3.Bucket versioned: true), or omit bucket to have one created');
  }
  const put = await s3Call('PutObject', `bucket (${uri})`, ({ sdk, client }) => client.send(new sdk.PutObjectCommand({
    Bucket: desired.bucket,
    Key: desired.key,
    Body: next.body,
    ContentType: 'application/x-pem-file',
    Metadata: metadata,
  })));
  if (!put.VersionId) {
    throw new InputError('bucket', `S3 returned no version for ${uri}; enable versioning on bucket ${desired.bucket}`);
  }
  log('info', 'published the trust bundle', {
    uri,
    versionId: put.VersionId,
    caArn: desired.caArn,
    chain: desired.chain.map((c) => c.fingerprint.slice(0, 16)),
    superseded: next.kept,
    dropped: next.dropped,
  });
  return put.VersionId;
}

function response(desired: Desired, versionId: string): OnEventResponse {
  const data: PrivateCaTrustBundleResourceAttributes = { VersionId: versionId };
  return { PhysicalResourceId: uriOf(desired.bucket, desired.key), Data: { ...data } };
}

const ownerOf = (event: TrustBundleEvent): Owner => ({ StackId: event.StackId, LogicalResourceId: event.LogicalResourceId });

/** The chain an Update replaces (none on Create, or when it cannot be read: it is only kept, never required). */
function previousChainOf(event: TrustBundleEvent): BundleCertificate[] {
  const old = event.RequestType === 'Update' ? event.OldResourceProperties?.CertificateChain : undefined;
  try {
    return old === undefined ? [] : certificatesOf(String(old), 'the previous certificateChain');
  } catch {
    return [];
  }
}

async function createOrMove(event: TrustBundleEvent): Promise<OnEventResponse> {
  const desired = parseProps(event.ResourceProperties);
  const owner = ownerOf(event);
  const published = await readPublished(desired, owner);
  if (published) {
    // A retried create finds what it wrote; anything else at the key is not adopted.
    assertAdoptable(published.ownership, `the object ${uriOf(desired.bucket, desired.key)}`, 'keyPrefix');
  }
  return response(desired, await publish(desired, published, owner, previousChainOf(event)));
}

async function update(event: TrustBundleEvent): Promise<OnEventResponse> {
  const desired = parseProps(event.ResourceProperties);
  if (event.PhysicalResourceId !== uriOf(desired.bucket, desired.key)) {
    // A new bucket or key: a new object (CloudFormation then deletes the old one).
    return createOrMove(event);
  }
  const owner = ownerOf(event);
  const published = await readPublished(desired, owner);
  if (published) {
    assertUpdatable(published.ownership, `the object ${event.PhysicalResourceId}`);
  } else {
    log('warn', 'the trust bundle was gone; it is written again', { uri: event.PhysicalResourceId });
  }
  return response(desired, await publish(desired, published, owner, previousChainOf(event)));
}

/** With removalPolicy DESTROY, every version of the object (so an owned bucket can be deleted after it). */
async function deleteBundle(event: TrustBundleEvent): Promise<OnEventResponse> {
  const physicalId = event.PhysicalResourceId ?? '';
  const location = parseUri(physicalId);
  if (!location) {
    log('info', 'nothing to delete: the physical ID is not a trust bundle object', { physicalResourceId: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  if (event.ResourceProperties.RemovalPolicy !== 'destroy') {
    log('info', 'removal policy is retain: the trust bundle is kept', { uri: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  let published: Published | undefined;
  try {
    published = await readPublished(location, ownerOf(event));
  } catch (e) {
    if (errorName(e) === 'NoSuchBucket') {
      log('info', 'the bucket is gone: nothing to delete', { uri: physicalId });
      return { PhysicalResourceId: physicalId };
    }
    throw e;
  }
  if (published && !mayDelete(published.ownership, `the object ${physicalId}`)) {
    return { PhysicalResourceId: physicalId };
  }
  let deleted = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3Call('ListObjectVersions', `removalPolicy (${physicalId})`, ({ sdk, client }) => client.send(new sdk.ListObjectVersionsCommand({
      Bucket: location.bucket,
      Prefix: location.key,
      KeyMarker: keyMarker,
      VersionIdMarker: versionIdMarker,
    })));
    const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].filter((v) => v.Key === location.key && v.VersionId);
    for (const version of versions) {
      await s3Call('DeleteObject', `removalPolicy (${physicalId})`, ({ sdk, client }) => client.send(new sdk.DeleteObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        VersionId: version.VersionId,
      })));
      deleted++;
    }
    if (!page.IsTruncated) {
      break;
    }
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  log('info', 'deleted the trust bundle (every version)', { uri: physicalId, versions: deleted });
  return { PhysicalResourceId: physicalId };
}

export const privateCaTrustBundle: ResourceLifecycle<PrivateCaTrustBundleResourceProperties> = {
  create: createOrMove,
  update,
  delete: deleteBundle,
};
