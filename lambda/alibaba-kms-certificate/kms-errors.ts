/**
 * Turns errors from Alibaba Cloud KMS (through `KmsCertificatesApi`) into messages that name the
 * construct property at fault and what to change. Messages carry the Alibaba error code and the
 * service's own message, never request parameters or credentials.
 */
import {
  defaultKmsEndpoint,
  isKmsCredentialError,
  isKmsNetworkError,
  isKmsNotFound,
  isKmsThrottling,
  isKmsTransient,
  kmsErrorCode,
} from './kms-api';
import { errorMessage, errorName, InputError } from '../shared/errors';

/** Where the failing call went and what it was about, for the message. */
export interface KmsCallContext {
  readonly regionId: string;
  /** Host (and port) the handler called. */
  readonly endpoint?: string;
  /** `create` (KMS generated the key) or `upload` (certificateId given). */
  readonly mode: 'create' | 'upload';
  readonly certificateId?: string;
}

/** The service's message without the client's `<code>: ` prefix. */
export function kmsMessage(e: unknown): string {
  const data = (e as { data?: { Message?: unknown } } | undefined)?.data;
  if (data && typeof data.Message === 'string' && data.Message.length > 0) {
    return data.Message;
  }
  const message = errorMessage(e);
  const code = kmsErrorCode(e);
  return code && message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}

/** What the handler must be able to reach, for network errors. */
export function networkHint(context: KmsCallContext): string {
  const host = context.endpoint ?? defaultKmsEndpoint(context.regionId);
  const target = /:\d+$/.test(host) ? host : `${host}:443`;
  return `the handler needs a network path to ${target}: internet egress (through a NAT gateway when vpc is set), `
    + 'or a VPN / Express Connect route from vpc to a KMS VPC endpoint given as endpoint; also check regionId and endpoint';
}

/**
 * Explains a failed KMS `operation`. An `InputError` passes through unchanged. The result's name is
 * the Alibaba error code (or the original error name).
 */
export function explainKmsError(e: unknown, operation: string, context: KmsCallContext): Error {
  if (e instanceof InputError) {
    return e;
  }
  const code = kmsErrorCode(e) ?? errorName(e);
  const message = kmsMessage(e);
  const where = `KMS ${operation} in ${context.regionId}`;
  const id = context.certificateId;
  let text: string;
  if (isKmsCredentialError(e)) {
    text = credentialText(code);
  } else if (isKmsThrottling(e)) {
    text = `${where} was throttled (${code}) and retries ran out; deploy again later, or ask Alibaba Cloud for a higher KMS API rate`;
  } else if (isKmsNotFound(e)) {
    text = context.mode === 'upload'
      ? `certificateId: KMS has no certificate ${id ?? ''} in ${context.regionId} (${code}); check certificateId and regionId, and that the AccessKey in credentials belongs to the account that owns it`
      : `${where}: the certificate ${id ?? ''} created for this resource no longer exists (${code}); it was deleted outside CloudFormation: deploy again to create a new one`;
  } else if (/^Forbidden/.test(code) || /NoPermission/.test(code)) {
    text = `credentials: the RAM identity of the AccessKey may not call kms:${operation} (${code}: ${message}); attach a RAM policy that allows it`;
  } else if (code === 'InvalidParameter' || /^Invalid/.test(code) || /^Missing/.test(code)) {
    text = invalidParameterText(operation, context, code, message);
  } else if (isKmsNetworkError(e)) {
    text = `endpoint: cannot reach KMS for ${operation} (${code}: ${message}); ${networkHint(context)}`;
  } else if (isKmsTransient(e)) {
    text = `${where} failed on the service side (${code}: ${message}); deploy again`;
  } else {
    text = `${where} failed: ${code}: ${message}`;
  }
  const error = new Error(text);
  error.name = code;
  return error;
}

function credentialText(code: string): string {
  if (code.startsWith('InvalidAccessKeyId')) {
    return `credentials: Alibaba Cloud does not know the accessKeyId in the credentials secret, or it is disabled (${code}); `
      + 'store an active AccessKey of a RAM user in the secret (JSON field accessKeyId)';
  }
  if (code.startsWith('InvalidSecurityToken')) {
    return `credentials: the securityToken in the credentials secret is expired or does not belong to its accessKeyId (${code}); `
      + 'STS tokens expire within hours: store a long-lived RAM user AccessKey (without securityToken), or refresh the secret before each deploy';
  }
  return `credentials: the accessKeySecret in the credentials secret does not match its accessKeyId (${code}); `
    + 'store the AccessKey secret that belongs to that AccessKey ID (JSON field accessKeySecret)';
}

function invalidParameterText(operation: string, context: KmsCallContext, code: string, message: string): string {
  switch (operation) {
    case 'CreateCertificate':
      return `subject: KMS rejected CreateCertificate (${code}: ${message}); check subject (CN, C, O and OU are required), subjectAlternativeNames (at most ten DNS names) and keySpec`;
    case 'UploadCertificate':
      return context.mode === 'upload'
        ? `certificate: KMS rejected it for certificate ${context.certificateId ?? ''} (${code}: ${message}); upload the certificate issued for that KMS certificate's CSR (GetCertificate returns the CSR), with certificateChain ordered from its issuer to the root`
        : `issuer: KMS rejected the certificate the CA issued for certificate ${context.certificateId ?? ''} (${code}: ${message}); check the CA's template (it must keep the CSR's public key)`;
    case 'TagResource':
    case 'UntagResource':
      return `tags: KMS rejected the tags (${code}: ${message}); at most ten tags, keys of 1 to 128 characters not starting with aliyun or acs:`;
    case 'UpdateCertificateStatus':
      return `deactivateOnDelete: KMS cannot set certificate ${context.certificateId ?? ''} INACTIVE (${code}: ${message}); set deactivateOnDelete to false to delete it instead`;
    default:
      return `KMS ${operation} in ${context.regionId} rejected the request (${code}: ${message})`;
  }
}
