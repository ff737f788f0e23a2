/**
 * The X.500 subject, once for every family that names one: ACM Private CA's `ASN1Subject` (a CA's
 * subject, an issued certificate's CSR) and Alibaba KMS's `Subject` DN. One field table (API name,
 * OID, RFC 4514 type, length limit, PrintableString or not), one PrintableString alphabet, one
 * checking function. What really differs per family is a parameter of {@link x500Subject}: which
 * fields it takes, which are required, whether the country must be upper case, the construct
 * property names, and the wording its errors have always used. No CDK import: handlers use it too.
 */
import { joinRules } from './problems';

/** The `ASN1Subject` field names (ACM Private CA's spelling), which the other families reuse. */
export type X500FieldName =
  | 'Country' | 'Organization' | 'OrganizationalUnit' | 'DistinguishedNameQualifier' | 'State'
  | 'CommonName' | 'SerialNumber' | 'Locality' | 'Title' | 'Surname' | 'GivenName' | 'Initials'
  | 'Pseudonym' | 'GenerationQualifier';

/** A subject as the API takes it: each field by its `ASN1Subject` name. */
export type X500Subject = { readonly [F in X500FieldName]?: string };

/** One subject field, as one family names and checks it. */
export interface X500FieldRule {
  /** The `ASN1Subject` name. */
  readonly field: X500FieldName;
  /** The construct property that carries it, as errors name it (e.g. `subject.country`). */
  readonly property: string;
  /** The attribute type's OID. */
  readonly oid: string;
  /** The RFC 4514 short name (`CN`), or the dotted OID where RFC 4514 names none. */
  readonly type: string;
  /** The API's maximum length. */
  readonly maxLength: number;
  /** X.520 makes these PrintableString, so only the X.680 PrintableString alphabet is allowed. */
  readonly printableOnly: boolean;
  /** Whether this family requires the field. */
  readonly required: boolean;
}

type FieldLimits = Omit<X500FieldRule, 'property' | 'required'> & { readonly property: string };

/**
 * Every `ASN1Subject` field in the API's own order, with the API's length limits and X.520's string
 * types. Country, DistinguishedNameQualifier and SerialNumber are PrintableString
 * (`ASN1PrintableString64` in the API).
 */
const FIELDS: readonly FieldLimits[] = [
  { field: 'Country', property: 'country', oid: '2.5.4.6', type: 'C', maxLength: 2, printableOnly: true },
  { field: 'Organization', property: 'organization', oid: '2.5.4.10', type: 'O', maxLength: 64, printableOnly: false },
  { field: 'OrganizationalUnit', property: 'organizationalUnit', oid: '2.5.4.11', type: 'OU', maxLength: 64, printableOnly: false },
  { field: 'DistinguishedNameQualifier', property: 'distinguishedNameQualifier', oid: '2.5.4.46', type: '2.5.4.46', maxLength: 64, printableOnly: true },
  { field: 'State', property: 'state', oid: '2.5.4.8', type: 'ST', maxLength: 128, printableOnly: false },
  { field: 'CommonName', property: 'commonName', oid: '2.5.4.3', type: 'CN', maxLength: 64, printableOnly: false },
  { field: 'SerialNumber', property: 'serialNumber', oid: '2.5.4.5', type: '2.5.4.5', maxLength: 64, printableOnly: true },
  { field: 'Locality', property: 'locality', oid: '2.5.4.7', type: 'L', maxLength: 128, printableOnly: false },
  { field: 'Title', property: 'title', oid: '2.5.4.12', type: '2.5.4.12', maxLength: 64, printableOnly: false },
  { field: 'Surname', property: 'surname', oid: '2.5.4.4', type: '2.5.4.4', maxLength: 40, printableOnly: false },
  { field: 'GivenName', property: 'givenName', oid: '2.5.4.42', type: '2.5.4.42', maxLength: 16, printableOnly: false },
  { field: 'Initials', property: 'initials', oid: '2.5.4.43', type: '2.5.4.43', maxLength: 5, printableOnly: false },
  { field: 'Pseudonym', property: 'pseudonym', oid: '2.5.4.65', type: '2.5.4.65', maxLength: 128, printableOnly: false },
  { field: 'GenerationQualifier', property: 'generationQualifier', oid: '2.5.4.44', type: '2.5.4.44', maxLength: 3, printableOnly: false },
];

/** Every field in `ASN1Subject` order (the order CreateCertificateAuthority documents). */
export const ASN1_SUBJECT_ORDER: readonly X500FieldName[] = FIELDS.map((f) => f.field);

/**
 * The order a name is written in (its RDN sequence): country first, common name last, as X.500
 * names conventionally run. An RFC 4514 string lists the same RDNs in reverse.
 */
export const X500_NAME_ORDER: readonly X500FieldName[] = [
  'Country', 'State', 'Locality', 'Organization', 'OrganizationalUnit', 'DistinguishedNameQualifier',
  'SerialNumber', 'Title', 'Surname', 'GivenName', 'Initials', 'Pseudonym', 'GenerationQualifier', 'CommonName',
];

/**
 * X.680 PrintableString: letters, digits, space and `'()+,-./:=?`. (ACM Private CA's
 * `ASN1PrintableString64` pattern `[a-zA-Z0-9'()+-.?:/= ]*` is the same set: `+-.` there is a
 * range that takes in the comma.)
 */
export const PRINTABLE_STRING_PATTERN = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
/** The punctuation PrintableString allows, as errors list it. */
export const PRINTABLE_STRING_ALPHABET = "'()+,-./:=?";

/** The wording of a family's errors (its tests pin it); every rule itself lives here once. */
export interface X500Wording {
  /** A value outside 1..max characters. */
  readonly length: (max: number, length: number) => string;
  /** A country that is not two letters (upper case where the family requires it). */
  readonly country: (value: string, upperCase: boolean) => string;
  /** A value outside the PrintableString alphabet. */
  readonly printable: (value: string) => string;
  /** A required field that is absent; `types` lists every required field's type. */
  readonly required: (type: string, types: readonly string[]) => string;
}

const DEFAULT_WORDING: X500Wording = {
  length: (max, length) => `must be 1 to ${max} characters long, got ${length}`,
  country: (value, upperCase) => `'${value}' is not a two-letter ISO 3166-1 country code${upperCase ? ' in upper case' : ''} (e.g. CN, US, DE)`,
  printable: (value) => `may hold only letters, digits, spaces and ${PRINTABLE_STRING_ALPHABET} (an X.680 PrintableString), got '${value}'`,
  required: (type, types) => `is required: ${types.join(', ')} must all be in the subject (${type})`,
};

/** What differs between families that take a subject. */
export interface X500SubjectOptions {
  /** The fields the family takes, in the order it checks them. */
  readonly fields: readonly X500FieldName[];
  /** Fields the family requires. @default none */
  readonly required?: readonly X500FieldName[];
  /** Construct property names that differ from the camel-cased field name. */
  readonly properties?: Partial<Record<X500FieldName, string>>;
  /** Prefix of every property name in errors (e.g. `subject.`). @default none */
  readonly propertyPrefix?: string;
  /** The country must be upper case (Alibaba KMS). @default false */
  readonly upperCaseCountry?: boolean;
  /** Leading or trailing spaces are refused (Alibaba KMS). @default false */
  readonly trimmed?: boolean;
  /** An empty string counts as absent (Alibaba KMS). @default false: it is too short */
  readonly emptyIsAbsent?: boolean;
  /** Check the length before the country code. @default false */
  readonly lengthFirst?: boolean;
  /** The family's wording. @default the shared wording */
  readonly wording?: Partial<X500Wording>;
}

/** One family's subject: its field rules and the check of one value. */
export interface X500SubjectRules {
  /** The family's fields, in the order it checks them. */
  readonly fields: readonly X500FieldRule[];
  /** Every rule a value breaks (undefined is absent), in one message, or undefined. */
  problem(rule: X500FieldRule, value: string | undefined): string | undefined;
}

// C0 controls and DEL (a regex literal with control characters would trip no-control-regex).
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      return true;
    }
  }
  return false;
}

/** Builds one family's subject rules from the shared table. */
export function x500Subject(options: X500SubjectOptions): X500SubjectRules {
  const wording: X500Wording = { ...DEFAULT_WORDING, ...options.wording };
  const required = new Set(options.required ?? []);
  const requiredTypes = FIELDS.filter((f) => required.has(f.field)).map((f) => f.type);
  const fields: X500FieldRule[] = options.fields.map((name) => {
    const limits = FIELDS.find((f) => f.field === name)!;
    return {
      ...limits,
      property: `${options.propertyPrefix ?? ''}${options.properties?.[name] ?? limits.property}`,
      required: required.has(name),
    };
  });
  const lengthProblem = (rule: X500FieldRule, value: string) =>
    value.length > rule.maxLength ? wording.length(rule.maxLength, value.length) : undefined;
  const countryProblem = (rule: X500FieldRule, value: string) => {
    if (rule.field !== 'Country') {
      return undefined;
    }
    return (options.upperCaseCountry ? /^[A-Z]{2}$/ : /^[A-Za-z]{2}$/).test(value)
      ? undefined
      : wording.country(value, options.upperCaseCountry ?? false);
  };
  return {
    fields,
    problem(rule, value) {
      if (value === undefined || (value === '' && options.emptyIsAbsent)) {
        return rule.required ? wording.required(rule.type, requiredTypes) : undefined;
      }
      if (value === '') {
        return wording.length(rule.maxLength, 0);
      }
      // Every rule the value breaks, in one message (DESIGN.md, "Bad input").
      const ordered = options.lengthFirst ? [lengthProblem, countryProblem] : [countryProblem, lengthProblem];
      const problems = ordered.map((check) => check(rule, value));
      if (rule.printableOnly && !PRINTABLE_STRING_PATTERN.test(value)) {
        problems.push(wording.printable(value));
      }
      if (hasControlCharacter(value)) {
        problems.push('may not hold control characters (remove line breaks, tabs, ...)');
      }
      if (options.trimmed && value.trim() !== value) {
        problems.push('may not start or end with a space (trim it)');
      }
      const found = problems.filter((p): p is string => p !== undefined);
      return found.length === 0 ? undefined : joinRules(found);
    },
  };
}

/**
 * Escapes one attribute value for an RFC 4514 (RFC 2253) string: `, + " \ < > ;` get a backslash,
 * as do a leading `#` or space and a trailing space.
 */
export function escapeDnValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const special = ',+"\\<>;'.includes(c)
      || (i === 0 && (c === '#' || c === ' '))
      || (i === value.length - 1 && c === ' ');
    out += special ? `\\${c}` : c;
  }
  return out;
}

/**
 * The RFC 4514 string of a subject: its RDNs most specific first (the reverse of
 * {@link X500_NAME_ORDER}), absent fields skipped: `CN=...,OU=...,O=...,L=...,ST=...,C=...`.
 */
export function distinguishedName(subject: X500Subject): string {
  return [...X500_NAME_ORDER].reverse()
    .filter((field) => subject[field] !== undefined && subject[field] !== '')
    .map((field) => `${FIELDS.find((f) => f.field === field)!.type}=${escapeDnValue(String(subject[field]))}`)
    .join(',');
}
