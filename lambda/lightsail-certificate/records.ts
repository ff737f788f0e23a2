/**
 * The DNS validation records of a Lightsail certificate, and the attributes that carry them.
 *
 * CloudFormation accepts at most 4096 bytes of response, and ten records of near-maximum domains
 * echoed whole (domain, name, type and value of each) came to almost 7,000. So the attributes
 * carry only what the construct cannot know at synth: of each record, the label(s) Lightsail puts
 * before the domain (`Record<i>Label`) and the value (`Record<i>Value`). The construct has the
 * domain (or its token), builds the name as `<label>.<domain>.`, and the type is always CNAME.
 */
import type { LightsailCertificate } from './lightsail';
import { VALIDATION_RECORD_TYPE, normalizeDomain, recordLabelAttribute, recordValueAttribute } from '../../src/contract/lightsail-certificate';

const CONTEXT = 'LightsailCertificate';

/** One validation record, in the order of the domains. */
export interface ValidationRecord {
  readonly domain: string;
  /** The record's name as Lightsail gives it (`<label>.<domain>.`). */
  readonly name: string;
  /** What precedes the domain in the name, without the dot between them (e.g. `_3639ac51...`). */
  readonly label: string;
  readonly type: string;
  readonly value: string;
}

/**
 * The label(s) before `domain` in a validation record's `name` (with or without its trailing
 * dot, in any case), or undefined when the name is not `<label>.<domain>`.
 */
export function recordLabel(name: string, domain: string): string | undefined {
  const bare = normalizeDomain(name.endsWith('.') ? name.slice(0, -1) : name);
  const suffix = `.${normalizeDomain(domain)}`;
  if (!bare.endsWith(suffix) || bare.length === suffix.length) {
    return undefined;
  }
  return name.slice(0, bare.length - suffix.length);
}

/**
 * The validation record of each domain, in the order given. Lightsail lists one record per
 * requested domain (a domain listed twice yields the same record twice): match by domain, keep
 * the first, and never return two records of the same name.
 *
 * Throws when a record is not a CNAME under its domain: the construct builds the record from the
 * domain it has, so it could not create such a record.
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
    const type = match.resourceRecord.type ?? VALIDATION_RECORD_TYPE;
    const label = recordLabel(name, domain);
    if (label === undefined || type.toUpperCase() !== VALIDATION_RECORD_TYPE) {
      throw new Error(`${CONTEXT} '${certificate.name}': Lightsail gave ${domain} the validation record ${type} ${name}, `
        + `not a ${VALIDATION_RECORD_TYPE} record named <label>.${domain}. as the construct creates it; `
        + 'create this record in your DNS yourself (omit hostedZone), and report it as a bug of cdk-certificates');
    }
    records.push({ domain, name, label, type: VALIDATION_RECORD_TYPE, value: match.resourceRecord.value });
  }
  return { records, missing };
}

/**
 * The resource's attributes: the certificate, and of each domain's validation record (by index)
 * what the construct cannot know at synth. Nothing the construct already has is echoed back.
 */
export function certificateData(certificate: LightsailCertificate, records: readonly ValidationRecord[]): Record<string, string> {
  const data: Record<string, string> = {
    CertificateArn: certificate.arn,
    CertificateName: certificate.name,
    Status: certificate.status ?? 'PENDING_VALIDATION',
  };
  records.forEach((r, i) => {
    data[recordLabelAttribute(i)] = r.label;
    data[recordValueAttribute(i)] = r.value;
  });
  return data;
}
