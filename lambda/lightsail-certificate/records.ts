/** The DNS validation records of a Lightsail certificate, and the attributes that carry them. */
import type { LightsailCertificate } from './lightsail';
import { normalizeDomain } from '../../src/contract/lightsail-certificate';

const CONTEXT = 'LightsailCertificate';

/** One validation record, in the order of the domains. */
export interface ValidationRecord {
  readonly domain: string;
  readonly name: string;
  readonly type: string;
  readonly value: string;
}

/**
 * The validation record of each domain, in the order given. Lightsail lists one record per
 * requested domain (a domain listed twice yields the same record twice): match by domain, keep
 * the first, and never return two records of the same name.
 */
export function validationRecords(certificate: LightsailCertificate, domains: readonly string[]): { records: ValidationRecord[]; missing: string[] } {
  const records: ValidationRecord[] = [];
  const missing: string[] = [];
  const names = new Set<string>();
  for (const domain of domains) {
    const match = (certificate.domainValidationRecords ?? []).find((r) =>
      r.domainName !== undefined && normalizeDomain(r.domainName) === domain && r.resourceRecord?.name && r.resourceRecord.value);
    if (!match?.resourceRecord?.name || !match.resourceRecord.value) {
      missing.push(domain);
      continue;
    }
    const name = match.resourceRecord.name;
    if (names.has(normalizeDomain(name))) {
      // Distinct domains have distinct records (the record lives under its domain); two equal
      // names would make two Route 53 record sets collide.
      throw new Error(`${CONTEXT} '${certificate.name}': Lightsail gave two domains the same validation record ${name}; list each domain once in domainName and subjectAlternativeNames`);
    }
    names.add(normalizeDomain(name));
    records.push({ domain, name, type: match.resourceRecord.type ?? 'CNAME', value: match.resourceRecord.value });
  }
  return { records, missing };
}

/** The resource's attributes: the certificate and the validation record of each domain by index. */
export function certificateData(certificate: LightsailCertificate, records: readonly ValidationRecord[]): Record<string, string> {
  const data: Record<string, string> = {
    CertificateArn: certificate.arn,
    CertificateName: certificate.name,
    Status: certificate.status ?? 'PENDING_VALIDATION',
    DomainName: certificate.domainName ?? '',
    RecordCount: String(records.length),
  };
  records.forEach((r, i) => {
    data[`Record${i}Domain`] = r.domain;
    data[`Record${i}Name`] = r.name;
    data[`Record${i}Type`] = r.type;
    data[`Record${i}Value`] = r.value;
  });
  return data;
}
