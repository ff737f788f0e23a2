import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CertificateInputError } from './errors';
import {
  CertificateCheckError,
  CertificateSummary,
  CheckResult,
  checkCertificateBody,
  checkCertificateChain,
} from './x509-checks';
import type { CertificatePem } from '../certificate-material';

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
 * becomes an acknowledgeable warning. Returns undefined when the PEM is only known at deploy.
 */
export function checkCertificateAtSynth(
  scope: IConstruct,
  property: string,
  pem: CertificatePem,
  options: SynthCheckOptions = {},
): CertificateSummary[] | undefined {
  return runCheck(scope, pem, `body\u0000${property}\u0000${options.expiryWarningDays}`,
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
  return runCheck(scope, pem, `chain\u0000${property}\u0000${options.expiryWarningDays}\u0000${options.leaf?.pemText}`,
    text => checkCertificateChain(text, property, options.leaf?.pemText, { expiryWarningDays: options.expiryWarningDays }));
}

// Apps often pass the same PEM (a CA, a shared chain) to many constructs: parse and verify it once
// per synth. Keyed by everything the check depends on; the outcome (result or error) is kept.
const outcomes = new Map<string, { result?: CheckResult; error?: unknown }>();

function runCheck(
  scope: IConstruct,
  pem: CertificatePem,
  cacheKey: string,
  check: (text: string) => CheckResult,
): CertificateSummary[] | undefined {
  const text = pem.pemText;
  if (text === undefined) {
    return undefined;
  }
  const key = `${cacheKey}\u0000${text}`;
  let outcome = outcomes.get(key);
  if (!outcome) {
    try {
      outcome = { result: check(text) };
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
    return result.certificates;
  } catch (e) {
    if (e instanceof CertificateCheckError) {
      throw new CertificateInputError(e.property, e.rule, scope);
    }
    throw e;
  }
}
