/**
 * The certificate manifest: what constructs record about every certificate whose PEM is known
 * at synth, and how to read it back from a cloud assembly.
 *
 * Records are construct metadata entries of type `cdk-certificates:certificate`, so the CDK writes
 * them into the cloud assembly with the stack they belong to (the stack artifact's `metadata` in
 * `manifest.json`, or the `<stack>.metadata.json` file the artifact names in
 * `additionalMetadataFile`); a Stage's stacks land in its nested assembly `assembly-<stage>`.
 *
 * Pure: node built-ins only (no aws-cdk-lib, no constructs), because the `cdk-certificates`
 * CLI loads this file in pipelines where only this package is installed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CertificateSummary } from './x509';

/**
 * What the cloud assembly records about one certificate whose PEM was known at synth (format
 * version 1). Every construct of this library writes one entry per certificate it checked at
 * synth: the certificate itself, each certificate of a chain, each certificate of a trust bundle.
 *
 * The entry is stored as construct metadata of type `cdk-certificates:certificate`, which the CDK
 * writes with the stack into the cloud assembly. It holds public data only: never a private key.
 */
export interface CertificateManifestEntry {
  /** Format version of this entry; 1 for the format described here. */
  readonly version: number;
  /** Path of the construct that declared the certificate, e.g. `Prod/Certificates/Web`. */
  readonly constructPath: string;
  /** The construct property that holds the certificate, e.g. `certificateBody`, `certificateChain`. */
  readonly property: string;
  /**
   * The checks the library ran at synth, which a reader can re-run: `certificate` (a single
   * certificate body, valid now), `chain` (issuers in leaf-to-root order, each signed by the next,
   * the first signing the leaf), or `bundle` (trusted certificates in any order, each valid now).
   */
  readonly check: string;
  /** 1-based position of the certificate in the property's PEM. */
  readonly position: number;
  /** Number of certificates in the property's PEM. */
  readonly count: number;
  /** Subject DN, RDNs joined with `, `, e.g. `CN=www.example.com`. */
  readonly subject: string;
  /** Every subjectAltName entry with its type, e.g. `DNS:www.example.com`, `IP Address:10.0.0.1`. */
  readonly subjectAlternativeNames: string[];
  /** Issuer DN, in the same form as the subject. */
  readonly issuer: string;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** Start of validity, ISO 8601 in UTC. */
  readonly notBefore: string;
  /** End of validity, ISO 8601 in UTC. */
  readonly notAfter: string;
  /** SHA-256 fingerprint of the DER certificate, upper-case hex pairs joined by `:`. */
  readonly fingerprintSha256: string;
  /** Whether the certificate is a CA certificate (basicConstraints CA:TRUE). */
  readonly isCa: boolean;
  /** The certificate as PEM (public data; lets a reader re-run every check). */
  readonly certificatePem: string;
  /**
   * For a `chain` entry, the SHA-256 fingerprint of the certificate the chain was checked against
   * (recorded by the same construct under its own property).
   *
   * @default - the leaf was not known at synth, or the entry is not part of a chain
   */
  readonly leafFingerprintSha256?: string;
}

/** The metadata entry type of a certificate record. */
export const CERTIFICATE_METADATA_TYPE = 'cdk-certificates:certificate';

/** The record format version this library writes and reads. Bump it on any incompatible change. */
export const CERTIFICATE_MANIFEST_VERSION = 1;

/** How a recorded certificate was checked at synth, so a reader can re-run the same checks. */
export const CHECK_KINDS = ['certificate', 'chain', 'bundle'] as const;
/** `certificate`: a single certificate body; `chain`: issuers in leaf-to-root order; `bundle`: trusted certificates in any order. */
export type CheckKind = typeof CHECK_KINDS[number];

/** Builds the records for the certificates of one construct property (one per certificate, in order). */
export function certificateRecords(
  constructPath: string,
  property: string,
  check: CheckKind,
  certificates: ReadonlyArray<{ readonly summary: CertificateSummary; readonly pem: string }>,
  leafFingerprintSha256?: string,
): CertificateManifestEntry[] {
  return certificates.map(({ summary, pem }, i) => ({
    version: CERTIFICATE_MANIFEST_VERSION,
    constructPath,
    property,
    check,
    position: i + 1,
    count: certificates.length,
    subject: summary.subject,
    subjectAlternativeNames: [...summary.subjectAlternativeNames],
    issuer: summary.issuer,
    serialNumber: summary.serialNumber,
    notBefore: summary.notBefore,
    notAfter: summary.notAfter,
    fingerprintSha256: summary.fingerprintSha256,
    isCa: summary.isCa,
    certificatePem: pem,
    ...(leafFingerprintSha256 !== undefined ? { leafFingerprintSha256 } : {}),
  }));
}

/** A record read from an assembly, with where it was found. */
export interface LocatedEntry {
  readonly entry: CertificateManifestEntry;
  /** The assembly directory holding the stack (as given, joined with nested directory names). */
  readonly assemblyDirectory: string;
  /** The stack artifact ID. */
  readonly stackArtifactId: string;
  /** The stack's display name (its construct path), e.g. `Prod/Certificates`. */
  readonly stackDisplayName: string;
}

/**
 * A stack of a cloud assembly: where its template is, and the construct path of each of its
 * resources (from the `aws:cdk:logicalId` metadata the CDK writes for every CloudFormation element).
 */
export interface AssemblyStack {
  /** The assembly directory holding the stack. */
  readonly assemblyDirectory: string;
  /** The stack artifact ID. */
  readonly artifactId: string;
  /** The stack's display name (its construct path). */
  readonly displayName: string;
  /** The template file, relative to the assembly directory; absent when the artifact names none. */
  readonly templateFile?: string;
  /** Construct path (without the leading `/`) of each logical ID of the template. */
  readonly constructPaths: Readonly<Record<string, string>>;
}

/** Everything read from one cloud assembly directory and its nested assemblies. */
export interface AssemblyRecords {
  /** Every assembly directory read, the given one first. */
  readonly assemblies: string[];
  readonly entries: LocatedEntry[];
  /** Every stack artifact, in manifest order. */
  readonly stacks: AssemblyStack[];
}

/** The directory is not a readable cloud assembly, or a record is malformed. */
export class ManifestReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestReadError';
  }
}

const STACK_ARTIFACT_TYPE = 'aws:cloudformation:stack';
const NESTED_ASSEMBLY_TYPE = 'cdk:cloud-assembly';
const LOGICAL_ID_METADATA_TYPE = 'aws:cdk:logicalId';

interface MetadataEntryJson {
  readonly type?: unknown;
  readonly data?: unknown;
}

/**
 * Reads every certificate record of a cloud assembly directory, nested assemblies (`assembly-*`
 * directories named by `cdk:cloud-assembly` artifacts) included, in manifest order.
 */
export function readAssemblyRecords(directory: string): AssemblyRecords {
  const assemblies: string[] = [];
  const entries: LocatedEntry[] = [];
  const stacks: AssemblyStack[] = [];
  const visited = new Set<string>();

  const visit = (dir: string) => {
    const real = path.resolve(dir);
    if (visited.has(real)) return;
    visited.add(real);
    assemblies.push(dir);
    const manifest = readJson(path.join(dir, 'manifest.json'), `${dir} is not a cloud assembly`);
    const artifacts = (manifest as { artifacts?: unknown }).artifacts ?? {};
    if (!isObject(artifacts)) {
      throw new ManifestReadError(`${path.join(dir, 'manifest.json')}: "artifacts" is not an object`);
    }
    for (const [artifactId, artifact] of Object.entries(artifacts)) {
      if (!isObject(artifact)) continue;
      if (artifact.type === NESTED_ASSEMBLY_TYPE) {
        const directoryName = isObject(artifact.properties) ? artifact.properties.directoryName : undefined;
        if (typeof directoryName !== 'string') {
          throw new ManifestReadError(`${path.join(dir, 'manifest.json')}: nested assembly ${artifactId} has no directoryName`);
        }
        visit(path.join(dir, directoryName));
      } else if (artifact.type === STACK_ARTIFACT_TYPE) {
        const displayName = typeof artifact.displayName === 'string' ? artifact.displayName : artifactId;
        const metadata = stackMetadata(dir, artifactId, artifact);
        const templateFile = isObject(artifact.properties) ? artifact.properties.templateFile : undefined;
        stacks.push({
          assemblyDirectory: dir,
          artifactId,
          displayName,
          ...(typeof templateFile === 'string' ? { templateFile } : {}),
          constructPaths: logicalIdPaths(metadata),
        });
        for (const data of certificateData(metadata)) {
          entries.push({
            entry: parseEntry(data, `${dir} stack ${displayName}`),
            assemblyDirectory: dir,
            stackArtifactId: artifactId,
            stackDisplayName: displayName,
          });
        }
      }
    }
  };

  visit(directory);
  return { assemblies, entries, stacks };
}

/** The metadata of one stack artifact: construct paths (with a leading `/`) and their entry lists. */
function stackMetadata(dir: string, artifactId: string, artifact: Record<string, unknown>): Array<[string, unknown]> {
  const metadata: Array<[string, unknown]> = [];
  if (isObject(artifact.metadata)) {
    metadata.push(...Object.entries(artifact.metadata));
  }
  // Newer CDK versions move stack metadata into a file next to the template.
  if (typeof artifact.additionalMetadataFile === 'string') {
    const file = path.join(dir, artifact.additionalMetadataFile);
    const extra = readJson(file, `stack ${artifactId} names a metadata file that cannot be read`);
    if (!isObject(extra)) {
      throw new ManifestReadError(`${file}: expected an object of construct paths`);
    }
    metadata.push(...Object.entries(extra));
  }
  return metadata;
}

/** The `data` of every certificate metadata entry of one stack's metadata. */
function certificateData(metadata: Array<[string, unknown]>): unknown[] {
  const records: unknown[] = [];
  for (const [, list] of metadata) {
    if (!Array.isArray(list)) continue;
    for (const item of list as MetadataEntryJson[]) {
      if (isObject(item) && item.type === CERTIFICATE_METADATA_TYPE) {
        records.push(item.data);
      }
    }
  }
  return records;
}

/** The construct path (without the leading `/`) of each logical ID a stack's metadata names. */
function logicalIdPaths(metadata: Array<[string, unknown]>): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const [constructPath, list] of metadata) {
    if (!Array.isArray(list)) continue;
    for (const item of list as MetadataEntryJson[]) {
      if (isObject(item) && item.type === LOGICAL_ID_METADATA_TYPE && typeof item.data === 'string') {
        paths[item.data] = constructPath.replace(/^\//, '');
      }
    }
  }
  return paths;
}

const STRING_FIELDS = [
  'constructPath', 'property', 'check', 'subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'fingerprintSha256',
] as const;

/**
 * Validates one record. Rejects records of another format version with a message saying which
 * side to upgrade, and any record that carries a private key (a record is public data).
 */
export function parseEntry(data: unknown, where: string): CertificateManifestEntry {
  if (!isObject(data)) {
    throw new ManifestReadError(`${where}: a ${CERTIFICATE_METADATA_TYPE} record is not an object`);
  }
  const version = data.version;
  if (version !== CERTIFICATE_MANIFEST_VERSION) {
    throw new ManifestReadError(typeof version === 'number' && version > CERTIFICATE_MANIFEST_VERSION
      ? `${where}: a certificate record has format version ${version}, newer than this cdk-certificates reads (${CERTIFICATE_MANIFEST_VERSION}); use the cdk-certificates version the app was synthesized with`
      : `${where}: a certificate record has format version ${JSON.stringify(version)}; expected ${CERTIFICATE_MANIFEST_VERSION}`);
  }
  const label = typeof data.constructPath === 'string' ? `${where} ${data.constructPath}` : where;
  for (const field of STRING_FIELDS) {
    if (typeof data[field] !== 'string') {
      throw new ManifestReadError(`${label}: certificate record field "${field}" is missing or not a string`);
    }
  }
  if (!(CHECK_KINDS as readonly string[]).includes(data.check as string)) {
    throw new ManifestReadError(`${label}: certificate record field "check" is ${JSON.stringify(data.check)}; expected one of ${CHECK_KINDS.join(', ')}`);
  }
  for (const field of ['position', 'count'] as const) {
    if (!Number.isInteger(data[field]) || (data[field] as number) < 1) {
      throw new ManifestReadError(`${label}: certificate record field "${field}" must be a positive integer`);
    }
  }
  if (!Array.isArray(data.subjectAlternativeNames) || !data.subjectAlternativeNames.every((s) => typeof s === 'string')) {
    throw new ManifestReadError(`${label}: certificate record field "subjectAlternativeNames" must be an array of strings`);
  }
  for (const field of ['notBefore', 'notAfter'] as const) {
    if (Number.isNaN(Date.parse(data[field] as string))) {
      throw new ManifestReadError(`${label}: certificate record field "${field}" is not an ISO 8601 date`);
    }
  }
  if (typeof data.certificatePem !== 'string') {
    throw new ManifestReadError(`${label}: certificate record field "certificatePem" is missing or not a string`);
  }
  if (/PRIVATE KEY/.test(data.certificatePem)) {
    // Never echo it: say where, not what.
    throw new ManifestReadError(`${label}: certificate record field "certificatePem" holds a private key; remove it from the assembly`);
  }
  if (data.leafFingerprintSha256 !== undefined && typeof data.leafFingerprintSha256 !== 'string') {
    throw new ManifestReadError(`${label}: certificate record field "leafFingerprintSha256" is not a string`);
  }
  return {
    version: CERTIFICATE_MANIFEST_VERSION,
    constructPath: data.constructPath as string,
    property: data.property as string,
    check: data.check as string,
    position: data.position as number,
    count: data.count as number,
    subject: data.subject as string,
    subjectAlternativeNames: [...(data.subjectAlternativeNames as string[])],
    issuer: data.issuer as string,
    serialNumber: data.serialNumber as string,
    notBefore: data.notBefore as string,
    notAfter: data.notAfter as string,
    fingerprintSha256: data.fingerprintSha256 as string,
    isCa: data.isCa === true,
    certificatePem: data.certificatePem,
    ...(typeof data.leafFingerprintSha256 === 'string' ? { leafFingerprintSha256: data.leafFingerprintSha256 } : {}),
  };
}

function readJson(file: string, context: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ManifestReadError(`${context}: cannot read ${file}${code ? ` (${code})` : ''}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ManifestReadError(`${file} is not valid JSON`);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
