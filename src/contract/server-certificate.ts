import type { MaterialSource } from './material-source';
import { refusedCharacters, valueProblem } from './problems';
import { AWS_RESERVED_TAG_KEYS, AWS_TAG_CHARACTERS, TagRules } from './tags';

/** The CloudFormation type of `ServerCertificate`'s custom resource. */
export const SERVER_CERTIFICATE_RESOURCE_TYPE = 'Custom::ServerCertificate';

/** IAM's tag rules (UploadServerCertificate, TagServerCertificate): 50 tags, keys 1-128, values 0-256 characters. */
export const IAM_TAG_RULES: TagRules = {
  service: 'IAM',
  resourceType: SERVER_CERTIFICATE_RESOURCE_TYPE,
  maxTags: 50,
  keyMaxLength: 128,
  valueMaxLength: 256,
  characters: AWS_TAG_CHARACTERS,
  reserved: AWS_RESERVED_TAG_KEYS,
  ownershipTags: true,
};

/** `Custom::ServerCertificate` properties: the contract between the construct and its handler. */
export interface ServerCertificateResourceProperties {
  readonly CertificateBody: MaterialSource;
  readonly PrivateKey: MaterialSource;
  readonly CertificateChain?: MaterialSource;
  /** The name the user chose; absent when the handler generates one. */
  readonly ServerCertificateName?: string;
  /** Prefix of a generated name; the handler appends a hash of body and chain. */
  readonly NamePrefix?: string;
  readonly Path: string;
  /** 'true' when the path must begin with /cloudfront/. */
  readonly ForCloudFront: 'true' | 'false';
  readonly Tags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
  readonly RemovalPolicy: 'retain' | 'destroy';
  /** Day counts of the expiry notices timed at deploy (`NotifyAt<days>` in Data); absent when none. */
  readonly NotifyDaysBefore?: string[];
}

/** `Custom::ServerCertificate` attributes (response Data). */
export interface ServerCertificateResourceAttributes {
  readonly Arn: string;
  readonly ServerCertificateName: string;
  readonly ServerCertificateId: string;
  readonly Path: string;
  readonly Expiration: string;
  readonly UploadDate: string;
  readonly [key: string]: string;
}

/** IAM's rules, shared by the construct (synth) and the handler (deploy, for tokens). */
export const SERVER_CERTIFICATE_NAME_PATTERN = /^[\w+=,.@-]+$/;
export const SERVER_CERTIFICATE_NAME_MAX_LENGTH = 128;
export const SERVER_CERTIFICATE_PATH_PATTERN = /^(\/|\/[\u0021-\u007F]+\/)$/;
export const SERVER_CERTIFICATE_PATH_MAX_LENGTH = 512;
export const CLOUDFRONT_PATH_PREFIX = '/cloudfront/';
/** IAM's length limits on UploadServerCertificate's PEM parameters. */
export const CERTIFICATE_BODY_MAX_LENGTH = 16384;
export const PRIVATE_KEY_MAX_LENGTH = 16384;
export const CERTIFICATE_CHAIN_MAX_LENGTH = 2097152;

/**
 * Returns every rule `name` breaks, in one message with the fix, or undefined when IAM accepts it.
 */
export function serverCertificateNameProblem(name: string): string | undefined {
  const rules: string[] = [];
  if (name.length < 1 || name.length > SERVER_CERTIFICATE_NAME_MAX_LENGTH) {
    rules.push(`must be 1 to ${SERVER_CERTIFICATE_NAME_MAX_LENGTH} characters long, got ${name.length}`);
  }
  if (name.length > 0 && !SERVER_CERTIFICATE_NAME_PATTERN.test(name)) {
    rules.push(`may hold only ASCII letters, digits and _+=,.@- (no spaces), not ${refusedCharacters(name, /[\w+=,.@-]/)}`);
  }
  return valueProblem(name, rules,
    `use 1 to ${SERVER_CERTIFICATE_NAME_MAX_LENGTH} ASCII letters, digits and _+=,.@- (e.g. web-2026), or leave serverCertificateName out to have one generated`);
}

/**
 * Returns every rule `path` breaks, in one message with the fix, or undefined when IAM (and
 * CloudFront, when asked) accepts it.
 */
export function serverCertificatePathProblem(path: string, forCloudFront: boolean): string | undefined {
  const rules: string[] = [];
  if (path.length < 1 || path.length > SERVER_CERTIFICATE_PATH_MAX_LENGTH) {
    rules.push(`must be 1 to ${SERVER_CERTIFICATE_PATH_MAX_LENGTH} characters long, got ${path.length}`);
  }
  if (path.length > 0 && !SERVER_CERTIFICATE_PATH_PATTERN.test(path)) {
    rules.push('must be \'/\' alone or begin and end with \'/\', with characters from U+0021 to U+007F between');
  }
  if (forCloudFront && !path.startsWith(CLOUDFRONT_PATH_PREFIX)) {
    rules.push(`must begin with '${CLOUDFRONT_PATH_PREFIX}' for a certificate used by CloudFront (forCloudFront is true)`);
  }
  return valueProblem(path, rules, forCloudFront
    ? `use '${CLOUDFRONT_PATH_PREFIX}' or a path below it such as '${CLOUDFRONT_PATH_PREFIX}web/', or leave path out`
    : "use '/' or a path such as '/web/' (printable ASCII, no spaces), or leave path out");
}
