import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CertificateInputError } from './errors';
import { CERTIFICATE_METADATA_TYPE, certificateRecords, CheckKind } from '../contract/manifest';
import {
  CertificateCheckError,
  CertificateSummary,
  CheckOptions,
  CheckResult,
  checkCertificateBody,
  checkCertificateChain,
  parsePemBlocks,
  summarizeCertificates,
  toPem,
} from '../contract/x509';
import type { CertificatePem } from '../material/certificate-material';

/** Warning id users acknowledge with `Annotations.of(scope).acknowledgeWarning(...)`. */
export const EXPIRING_SOON_WARNING = 'cdk-certificates:certificateExpiresSoon';

export interface SynthCheckOptions {
  /** The certificate the chain must issue (a body), when checking a chain. */
  readonly leaf?: CertificatePem;
  /** @default 30 */
  readonly expiryWarningDays?: number;
}

/**
 * Runs the library's X.509 checks on a single certificate whose PEM is known at synth.
 * Errors become one CertificateInputError naming `property`; expiry within the warning window
 * becomes an acknowledgeable warning; a certificate that passes is recorded in the certificate
 * manifest (see ./certificate-manifest.ts). Returns undefined when the PEM is only known at deploy.
 */
export function checkCertificateAtSynth(
  scope: IConstruct,
  property: string,
  pem: CertificatePem,
  options: SynthCheckOptions = {},
): CertificateSummary[] | undefined {
  return runCheck(scope, property, 'certificate', pem, `body\u0000${property}\u0000${options.expiryWarningDays}`,
    text => checkCertificateBody(text, property, { expiryWarningDays: options.expiryWarningDays }));
}

/**
 * Runs the chain checks (order leaf-to-root, each signed by the next, no leaf inside, none
 * expired) on a chain whose PEM is known at synth, against the leaf when that is known too.
 */
export function checkChainAtSynth(
  scope: IConstruct,
  property: string,
  pem: CertificatePem,
  options: SynthCheckOptions = {},
): CertificateSummary[] | undefined {
  const leafText = options.leaf?.pemText;
  return runCheck(scope, property, 'chain', pem, `chain\u0000${property}\u0000${options.expiryWarningDays}\u0000${leafText}`,
    text => checkCertificateChain(text, property, leafText, { expiryWarningDays: options.expiryWarningDays }),
    // The chain check parsed the leaf already, so this cannot fail.
    leafText !== undefined ? () => summarizeCertificates(leafText, property)[0].fingerprintSha256 : undefined);
}

/**
 * Runs a construct's own check of a certificate bundle (trusted certificates in any order, such as
 * a DMS CA bundle) whose PEM is known at synth, with the same error, warning, caching and manifest
 * behaviour as checkCertificateAtSynth. `check` must accept only certificates and check each one's
 * validity (a reader of the manifest re-runs exactly that).
 */
export function checkBundleAtSynth(
  scope: IConstruct,
  property: string,
  pem: CertificatePem,
  check: (pemText: string, property: string, options: CheckOptions) => CheckResult,
  options: SynthCheckOptions = {},
): CertificateSummary[] | undefined {
  return runCheck(scope, property, 'bundle', pem, `bundle\u0000${check.name}\u0000${property}\u0000${options.expiryWarningDays}`,
    text => check(text, property, { expiryWarningDays: options.expiryWarningDays }));
}

interface Outcome {
  readonly result?: CheckResult;
  /** Canonical PEM of each certificate, in the order of `result.certificates`. */
  readonly pems?: string[];
  readonly leafFingerprintSha256?: string;
  readonly error?: unknown;
}

// Apps often pass the same PEM (a CA, a shared chain) to many constructs: parse and verify it once
// per synth. Keyed by everything the check depends on; the outcome (result or error) is kept.
const outcomes = new Map<string, Outcome>();

// Manifest records are per construct and property, whether or not the check outcome was cached;
// a construct that checks the same property twice records it once.
const recorded = new WeakMap<IConstruct, Set<string>>();

function runCheck(
  scope: IConstruct,
  property: string,
  kind: CheckKind,
  pem: CertificatePem,
  cacheKey: string,
  check: (text: string) => CheckResult,
  leafFingerprint?: () => string,
): CertificateSummary[] | undefined {
  const text = pem.pemText;
  if (text === undefined) {
    return undefined;
  }
  const key = `${cacheKey}\u0000${text}`;
  let outcome = outcomes.get(key);
  if (!outcome) {
    try {
      const result = check(text);
      // The check accepted only CERTIFICATE blocks, one per summary, in order.
      const pems = parsePemBlocks(text, property).map(toPem);
      outcome = { result, pems, leafFingerprintSha256: leafFingerprint?.() };
    } catch (e) {
      outcome = { error: e };
    }
    outcomes.set(key, outcome);
  }
  try {
    if (outcome.error !== undefined) {
      throw outcome.error;
    }
    const result = outcome.result!;
    for (const warning of result.warnings) {
      Annotations.of(scope).addWarningV2(EXPIRING_SOON_WARNING, warning);
    }
    record(scope, property, kind, result.certificates, outcome.pems!, outcome.leafFingerprintSha256);
    return result.certificates;
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      throw new CertificateInputError(e.property, e.rule, scope);
    }
    throw e;
  }
}

function record(
  scope: IConstruct,
  property: string,
  kind: CheckKind,
  summaries: CertificateSummary[],
  pems: string[],
  leafFingerprintSha256: string | undefined,
): void {
  let properties = recorded.get(scope);
  if (!properties) {
    properties = new Set();
    recorded.set(scope, properties);
  }
  if (properties.has(property)) {
    return;
  }
  properties.add(property);
  const certificates = summaries.map((summary, i) => ({ summary, pem: pems[i] }));
  for (const entry of certificateRecords(scope.node.path, property, kind, certificates, leafFingerprintSha256)) {
    scope.node.addMetadata(CERTIFICATE_METADATA_TYPE, entry);
  }
}
