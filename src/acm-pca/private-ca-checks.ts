/**
 * The checks of a PrivateCa's inputs at synth, and what follows from them (validity, path length),
 * apart from the construct itself. Internal: not exported from the package.
 */
import { Duration, Stack, Token, TokenComparison } from 'aws-cdk-lib';
import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import { Construct } from 'constructs';
import type { PrivateCa } from './private-ca';
import { validateAuditReports } from './private-ca-audit-reports';
import { KeyAlgorithm, SigningAlgorithm } from './private-ca-options';
import { PrivateCaProps, PrivateCaSubject } from './private-ca-props';
import { validateCrl } from './private-ca-revocation';
import {
  cnameProblem,
  permanentDeletionProblem,
  PRIVATE_CA_SUBJECT,
} from '../contract/private-ca';
import { validityDaysProblem } from '../contract/validity';
import { CertificateInputError, checkWhenKnown } from '../private/errors';
import { checkCertificateAtSynth, checkChainAtSynth } from '../private/synth-checks';

const DAY_SECONDS = 24 * 60 * 60;
/** The deepest subordinate the service's `SubordinateCACertificate_PathLen<N>/V1` templates make. */
const MAX_TEMPLATE_PATH_LENGTH = 3;
const DEFAULT_ROOT_VALIDITY_DAYS = 3650;
const DEFAULT_SUBORDINATE_VALIDITY_DAYS = 1825;

/** The algorithms a CA was given (or defaulted to). */
export interface CaAlgorithms {
  readonly keyAlgorithm: KeyAlgorithm;
  readonly signingAlgorithm: SigningAlgorithm;
}

/** Checks every input; returns the validity in days of a supplied certificate known at synth. */
export function validateBasics(scope: Construct, props: PrivateCaProps, windowDays: number, algorithms: CaAlgorithms): number | undefined {
  const parent = props.parent;
  const external = props.externalParent ?? false;
  if (parent && external) {
    throw new CertificateInputError('externalParent', 'cannot be set together with parent: a CA has one parent', scope);
  }
  if ((props.certificate || props.certificateChain) && !external) {
    throw new CertificateInputError(props.certificate ? 'certificate' : 'certificateChain',
      'is only for a CA with externalParent: true (a root is self-signed, a parent in the app signs its children)', scope);
  }
  if (props.certificateChain && !props.certificate) {
    throw new CertificateInputError('certificateChain', 'was given without certificate; pass both', scope);
  }
  if (props.certificate && !props.certificateChain) {
    throw new CertificateInputError('certificateChain',
      'is required with certificate: a subordinate CA certificate is installed with the chain from its issuer to the root', scope);
  }
  if (!algorithms.keyAlgorithm.accepts(algorithms.signingAlgorithm)) {
    throw new CertificateInputError('signingAlgorithm',
      `${algorithms.signingAlgorithm.value} does not fit the key algorithm ${algorithms.keyAlgorithm.value}; `
      + `use a signing algorithm of the same family, e.g. ${algorithms.keyAlgorithm.defaultSigningAlgorithm.value}`, scope);
  }
  checkWhenKnown(scope, 'permanentDeletionTimeInDays', windowDays, permanentDeletionProblem);
  validateSubject(scope, props.subject);
  if (props.crl) {
    validateCrl(scope, props.crl);
  }
  if (props.auditReports) {
    validateAuditReports(scope, props.auditReports);
  }
  if (props.ocsp?.customCname !== undefined && !Token.isUnresolved(props.ocsp.customCname)) {
    const problem = cnameProblem(props.ocsp.customCname);
    if (problem) {
      throw new CertificateInputError('ocsp.customCname', problem, scope);
    }
  }
  if (parent) {
    validateParent(scope, parent);
  }
  if (props.certificate) {
    const summaries = checkCertificateAtSynth(scope, 'certificate', props.certificate);
    if (summaries && summaries.length !== 1) {
      throw new CertificateInputError('certificate', `must hold exactly one certificate (the CA's), got ${summaries.length}; put the others in certificateChain`, scope);
    }
    if (summaries && !summaries[0].isCa) {
      throw new CertificateInputError('certificate', `${summaries[0].subject} is not a CA certificate (basicConstraints CA:TRUE); ask the external CA for a subordinate CA certificate`, scope);
    }
    checkChainAtSynth(scope, 'certificateChain', props.certificateChain!, { leaf: props.certificate });
    if (summaries) {
      return Math.floor((Date.parse(summaries[0].notAfter) - Date.parse(summaries[0].notBefore)) / (DAY_SECONDS * 1000));
    }
  }
  return undefined;
}

function validateSubject(scope: Construct, subject: PrivateCaSubject): void {
  const record = subject as unknown as Record<string, unknown>;
  for (const rule of PRIVATE_CA_SUBJECT.fields) {
    const value = record[rule.property];
    if (value === undefined || (typeof value === 'string' && Token.isUnresolved(value))) {
      continue;
    }
    const problem = PRIVATE_CA_SUBJECT.problem(rule, String(value));
    if (problem) {
      throw new CertificateInputError(`subject.${rule.property}`, problem, scope);
    }
  }
}

function validateParent(scope: Construct, parent: PrivateCa): void {
  if (parent.readyForIssuance === undefined) {
    throw new CertificateInputError('parent',
      `${parent.node.path} has an external parent and no certificate yet, so it cannot sign; supply its certificate first`, scope);
  }
  const mine = Stack.of(scope);
  const theirs = Stack.of(parent);
  for (const [what, a, b] of [['Region', mine.region, theirs.region], ['account', mine.account, theirs.account]] as const) {
    if (Token.compareStrings(a, b) === TokenComparison.DIFFERENT) {
      throw new CertificateInputError('parent', `${parent.node.path} is in another ${what} (${b}); a parent signs subordinates in its own ${what} only`, scope);
    }
  }
}

/** Days of validity of the CA certificate (undefined when an external parent decides and it is unknown). */
export function resolveValidityDays(scope: Construct, props: PrivateCaProps, isRoot: boolean, suppliedDays: number | undefined): number | undefined {
  const parent = props.parent;
  let days: number | undefined;
  if (props.validity !== undefined) {
    days = durationDays(scope, props.validity);
  } else if (isRoot) {
    days = DEFAULT_ROOT_VALIDITY_DAYS;
  } else if (parent) {
    const parentDays = parent.validity === undefined ? undefined : durationDays(parent, parent.validity);
    days = parentDays === undefined || Token.isUnresolved(parentDays)
      ? DEFAULT_SUBORDINATE_VALIDITY_DAYS
      : Math.min(DEFAULT_SUBORDINATE_VALIDITY_DAYS, Math.floor(parentDays / 2));
  } else {
    days = suppliedDays;
  }
  if (parent && days !== undefined && !Token.isUnresolved(days) && parent.validity !== undefined) {
    const parentDays = durationDays(parent, parent.validity);
    if (parentDays !== undefined && !Token.isUnresolved(parentDays) && days >= parentDays) {
      throw new CertificateInputError('validity',
        `${days} days is not shorter than the validity of the parent ${parent.node.path} (${parentDays} days); `
        + 'a CA cannot sign a certificate that outlives its own', scope);
    }
  }
  if (days !== undefined && !Token.isUnresolved(days) && days < 1) {
    throw new CertificateInputError('validity', `must be at least one day, got ${days}`, scope);
  }
  return days;
}

export function resolvePathLength(scope: Construct, props: PrivateCaProps, isRoot: boolean): number | undefined {
  const pathLength = props.pathLength;
  if (isRoot) {
    if (pathLength !== undefined) {
      throw new CertificateInputError('pathLength',
        'cannot be set on a root: RootCACertificate/V1 puts no path length constraint; set pathLength on its subordinates', scope);
    }
    return undefined;
  }
  if (pathLength !== undefined && !Token.isUnresolved(pathLength)) {
    const max = props.parent ? MAX_TEMPLATE_PATH_LENGTH : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(pathLength) || pathLength < 0 || pathLength > max) {
      throw new CertificateInputError('pathLength', props.parent
        ? `must be a whole number from 0 to ${MAX_TEMPLATE_PATH_LENGTH} (the SubordinateCACertificate_PathLen<N>/V1 templates), got ${pathLength}`
        : `must be a whole number of 0 or more, got ${pathLength}`, scope);
    }
  }
  const parent = props.parent;
  if (!parent) {
    return pathLength;
  }
  const mine = pathLength ?? 0;
  if (parent.pathLength !== undefined && mine >= parent.pathLength) {
    throw new CertificateInputError('pathLength', parent.pathLength === 0
      ? `the parent ${parent.node.path} has path length 0, so it may not sign CA certificates; raise the parent's pathLength`
      : `${mine} is not below the path length of the parent ${parent.node.path} (${parent.pathLength}); use at most ${parent.pathLength - 1}`, scope);
  }
  return mine;
}

/** The subject as the native resource takes it (the same property names). */
export function renderSubject(subject: PrivateCaSubject): acmpca.CfnCertificateAuthority.SubjectProperty {
  const record = subject as unknown as Record<string, string | undefined>;
  const out: Record<string, string> = {};
  for (const { property } of PRIVATE_CA_SUBJECT.fields) {
    const value = record[property];
    if (value !== undefined) {
      out[property] = value;
    }
  }
  return out as acmpca.CfnCertificateAuthority.SubjectProperty;
}

/** Whole days of a Duration (a token stays a token). */
function durationDays(scope: Construct, duration: Duration): number {
  if (!duration.isUnresolved()) {
    const problem = validityDaysProblem(duration.toDays({ integral: false }), duration.toHumanString());
    if (problem) {
      throw new CertificateInputError('validity', problem, scope);
    }
  }
  return duration.toDays();
}
