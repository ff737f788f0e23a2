import type { LightsailCertificate } from './lightsail';
import { FAILURE_REASON_ADVICE } from '../../src/contract/lightsail-certificate';

/**
 * The error for a certificate Lightsail will not issue: the reason Lightsail gives
 * (`requestFailureReason`, else the renewal summary's) and what to do about it.
 */
export function failureError(certificate: LightsailCertificate, where: string): Error {
  const reason = certificate.requestFailureReason ?? certificate.renewalSummary?.renewalStatusReason;
  const advice = reason !== undefined && Object.prototype.hasOwnProperty.call(FAILURE_REASON_ADVICE, reason)
    ? FAILURE_REASON_ADVICE[reason]
    : 'check domainName and subjectAlternativeNames, then change one of them or certificateName so a new certificate is requested';
  const error = new Error(`${where}: Lightsail could not issue the certificate for ${domainList(certificate)}: ${reason ?? 'no reason given'}: ${advice}`);
  error.name = 'CertificateRequestFailed';
  return error;
}

function domainList(certificate: LightsailCertificate): string {
  const all = new Set([certificate.domainName, ...(certificate.subjectAlternativeNames ?? [])].filter((d): d is string => !!d));
  return [...all].join(', ');
}
