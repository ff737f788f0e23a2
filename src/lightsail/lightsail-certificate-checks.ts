/**
 * The checks of a LightsailCertificate's inputs at synth. Internal: not exported from the package.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { LightsailCertificateProps } from './lightsail-certificate-props';
import {
  DISTRIBUTION_REGION,
  DOMAIN_NAME_MAX_LENGTH,
  MAX_SUBJECT_ALTERNATIVE_NAMES,
  SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH,
  certificateNameProblem,
  domainNameProblem,
  normalizeDomain,
  regionProblem,
} from '../contract/lightsail-certificate';
import { joinProblems } from '../contract/problems';
import { CertificateInputError, checkWhenKnown } from '../private/errors';

/**
 * The longest wait: CloudFormation waits at most one hour for a custom resource (ServiceTimeout),
 * and the Provider framework's own limit (PROVIDER_TOTAL_TIMEOUT, 55 minutes) must not fire first, or its message would not
 * say what to check.
 */
const MAX_VALIDATION_TIMEOUT = Duration.minutes(50);

export function validateLightsailCertificate(scope: Construct, props: LightsailCertificateProps, forDistribution: boolean): string[] {
  if (props.region !== undefined && !Token.isUnresolved(props.region)) {
    const problem = regionProblem(props.region);
    if (problem) {
      throw new CertificateInputError('region', problem, scope);
    }
    if (forDistribution && props.region !== DISTRIBUTION_REGION) {
      throw new CertificateInputError('region', `must be ${DISTRIBUTION_REGION} (or omitted) when forDistribution is true: Lightsail distributions use only certificates in ${DISTRIBUTION_REGION}, got ${props.region}`, scope);
    }
  }
  checkWhenKnown(scope, 'certificateName', props.certificateName, certificateNameProblem);
  const domainKnown = !Token.isUnresolved(props.domainName);
  if (domainKnown) {
    const problem = domainNameProblem(props.domainName, DOMAIN_NAME_MAX_LENGTH);
    if (problem) {
      throw new CertificateInputError('domainName', problem, scope);
    }
  }
  const given = props.subjectAlternativeNames ?? [];
  if (Token.isUnresolved(given)) {
    throw new CertificateInputError('subjectAlternativeNames', 'must be a list whose length is known at synth (one validation record per domain is indexed at synth); list the names, tokens are fine as elements', scope);
  }
  const distinct: string[] = [];
  const seen = new Set<string>(domainKnown ? [normalizeDomain(props.domainName)] : []);
  // Every problem of the list in one error (DESIGN.md, "Bad input").
  const problems: Array<string | undefined> = [];
  for (const san of given) {
    if (Token.isUnresolved(san)) {
      // Checked (and deduplicated) by the handler at deploy.
      distinct.push(san);
      continue;
    }
    const problem = domainNameProblem(san, SUBJECT_ALTERNATIVE_NAME_MAX_LENGTH);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const normalized = normalizeDomain(san);
    if (domainKnown && normalized === normalizeDomain(props.domainName)) {
      // The domain name is always covered; listing it too is allowed and not counted.
      continue;
    }
    if (seen.has(normalized)) {
      problems.push(`'${san}' is listed twice; list each domain once`);
      continue;
    }
    seen.add(normalized);
    distinct.push(normalized);
  }
  const sanProblem = joinProblems(problems);
  if (sanProblem) {
    throw new CertificateInputError('subjectAlternativeNames', sanProblem, scope);
  }
  if (distinct.length > MAX_SUBJECT_ALTERNATIVE_NAMES) {
    throw new CertificateInputError('subjectAlternativeNames', `at most ${MAX_SUBJECT_ALTERNATIVE_NAMES} names besides domainName, got ${distinct.length}`, scope);
  }
  if (props.validationTimeout !== undefined) {
    const seconds = props.validationTimeout.toSeconds();
    if (seconds < 60 || seconds > MAX_VALIDATION_TIMEOUT.toSeconds()) {
      throw new CertificateInputError('validationTimeout', `must be between 1 and ${MAX_VALIDATION_TIMEOUT.toMinutes()} minutes (CloudFormation waits at most an hour for a custom resource), got ${props.validationTimeout.toHumanString()}`, scope);
    }
  }
  if (props.hostedZone) {
    checkZone(scope, props.hostedZone, [props.domainName, ...distinct]);
  }
  return distinct;
}

/** Every known domain must be in the zone, or its record lands where no resolver looks. */
function checkZone(scope: Construct, zone: route53.IHostedZone, domains: string[]): void {
  let zoneName: string;
  try {
    zoneName = zone.zoneName;
  } catch {
    // Imported by ID only: the zone's name is unknown at synth.
    return;
  }
  if (Token.isUnresolved(zoneName)) {
    return;
  }
  const apex = normalizeDomain(zoneName.replace(/\.$/, ''));
  domains.forEach((domain, i) => {
    if (Token.isUnresolved(domain)) {
      return;
    }
    const d = normalizeDomain(domain);
    if (d !== apex && !d.endsWith(`.${apex}`)) {
      const property = i === 0 ? 'domainName' : 'subjectAlternativeNames';
      throw new CertificateInputError(property, `'${domain}' is not in the hosted zone ${apex}, so its validation record cannot be created there; use a zone that holds every domain, or create the records yourself (omit hostedZone)`, scope);
    }
  });
}
