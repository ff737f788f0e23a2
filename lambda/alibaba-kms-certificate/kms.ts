/**
 * Reaching KMS: the credentials secret read at every connection (its values never logged and
 * scrubbed from every error), the client, and KMS calls retried on throttling, 5xx and network
 * errors with their failures explained.
 */
import { isKmsNetworkError, isKmsTransient, KmsCertificateDescription, KmsCertificatesApi, KmsCredentials } from './kms-api';
import { explainKmsError, KmsCallContext } from './kms-errors';
import type { Connection } from './request';
import { errorMessage, InputError } from '../shared/errors';
import { readMaterial } from '../shared/material';
import { withRetry } from '../shared/retry';

/** Client timeouts and retry budget for KMS calls. Overridable in tests. */
export const settings = {
  connectTimeoutMs: 5_000,
  readTimeoutMs: 30_000,
  /** Attempts for a KMS call that fails with throttling, a 5xx or a network error. */
  kmsMaxAttempts: 5,
};

export /** A connected client with what its messages need. */
interface Kms {
  readonly api: KmsCertificatesApi;
  readonly context: KmsCallContext;
}

/** Credential values read by the latest connection, scrubbed from any error message. */
let secretValues: string[] = [];

/** Reads the credentials secret and builds a client for the connection. */
export async function connect(connection: Connection, mode: 'create' | 'upload', certificateId?: string): Promise<Kms> {
  const credentials = await readCredentials(connection.credentialsSecretArn);
  const api = new KmsCertificatesApi({
    regionId: connection.regionId,
    endpoint: connection.endpoint,
    protocol: connection.protocol,
    credentials,
    connectTimeoutMs: settings.connectTimeoutMs,
    readTimeoutMs: settings.readTimeoutMs,
  });
  return { api, context: { regionId: connection.regionId, endpoint: connection.endpoint, mode, certificateId } };
}

/** Parses `{accessKeyId, accessKeySecret, securityToken?}`; messages never hold the values. */
async function readCredentials(secretArn: string): Promise<KmsCredentials> {
  const text = await readMaterial({ kind: 'secret', secretId: secretArn }, 'credentials');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('credentials', `the secret ${secretArn} does not hold JSON; store {"accessKeyId": "...", "accessKeySecret": "..."} (plus "securityToken" for STS credentials)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError('credentials', `the secret ${secretArn} does not hold a JSON object; store {"accessKeyId": "...", "accessKeySecret": "..."}`);
  }
  const record = parsed as Record<string, unknown>;
  const field = (name: string, required: boolean): string | undefined => {
    const value = record[name];
    if (value === undefined || value === null || value === '') {
      if (required) {
        throw new InputError('credentials', `the secret ${secretArn} has no field ${name}; store {"accessKeyId": "...", "accessKeySecret": "..."}`);
      }
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new InputError('credentials', `field ${name} of the secret ${secretArn} must be a string`);
    }
    return value;
  };
  const credentials: KmsCredentials = {
    accessKeyId: field('accessKeyId', true)!,
    accessKeySecret: field('accessKeySecret', true)!,
    securityToken: field('securityToken', false),
  };
  secretValues = [credentials.accessKeyId, credentials.accessKeySecret, credentials.securityToken ?? '']
    .filter((v) => v.length >= 4);
  return credentials;
}

/** A KMS call retried on throttling, 5xx and network errors, its failure explained. */
export async function kmsCall<T>(kms: Kms, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await withRetry(`kms:${operation}`, fn, {
      retryable: (e) => isKmsTransient(e) || isKmsNetworkError(e),
      maxAttempts: settings.kmsMaxAttempts,
    });
  } catch (e) {
    throw explainKmsError(e, operation, kms.context);
  }
}

export async function describe(kms: Kms, id: string): Promise<KmsCertificateDescription | undefined> {
  return kmsCall(kms, 'DescribeCertificate', () => kms.api.describeCertificate(id));
}

/** The error with any credential value replaced (defence in depth: no service echoes them). */
export function scrub(e: unknown): Error {
  const error = e instanceof Error ? e : new Error(errorMessage(e));
  let message = error.message;
  for (const value of secretValues) {
    message = message.split(value).join('[redacted]');
  }
  if (message === error.message) {
    return error;
  }
  const scrubbed = e instanceof InputError ? new InputError(e.property, message.replace(`${e.property}: `, '')) : new Error(message);
  scrubbed.name = error.name;
  return scrubbed;
}
