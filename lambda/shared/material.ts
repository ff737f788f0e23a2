import { service } from './clients';
import { ErrorExplainer, errorName, InputError, translateError } from './errors';
import type { MaterialSource } from '../../src/contract/material-source';

// Created once per container, on first use, as the Lambda runtime reuses them across invocations.
const secretsManager = service({
  load: () => import('@aws-sdk/client-secrets-manager'),
  client: (sdk) => new sdk.SecretsManagerClient({}),
});
const ssm = service({
  load: () => import('@aws-sdk/client-ssm'),
  client: (sdk) => new sdk.SSMClient({}),
});
// A wallet bucket may live in another region than the handler.
const s3 = service({
  load: () => import('@aws-sdk/client-s3'),
  client: (sdk) => new sdk.S3Client({ followRegionRedirects: true }),
});

const KINDS = ['inline', 'secret', 'ssm', 's3'] as const;

// The fields each kind must and may carry.
const SHAPES: Record<MaterialSource['kind'], { readonly required: readonly string[]; readonly optional: readonly string[] }> = {
  inline: { required: ['value'], optional: [] },
  secret: { required: ['secretId'], optional: ['jsonField', 'versionId', 'versionStage'] },
  ssm: { required: ['parameterName', 'withDecryption'], optional: ['version'] },
  s3: { required: ['bucket', 'key'], optional: [] },
};

/**
 * Validates a material source as it arrives in `ResourceProperties` (an object whose values are
 * strings, or its JSON) and returns it typed. Throws an {@link InputError} naming `property` when the
 * shape is wrong; never echoes an inline value.
 */
export function parseMaterialSource(value: unknown, property: string): MaterialSource {
  let raw = value;
  if (typeof raw === 'string' && raw.trimStart().startsWith('{')) {
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new InputError(property, 'the material source is not valid JSON');
    }
  }
  if (raw === undefined || raw === null || raw === '') {
    throw new InputError(property, 'is required but missing');
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError(property, `expected a material source object ({ kind: ${KINDS.join(' | ')}, ... }), got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const record = raw as Record<string, unknown>;
  const kind = record.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw new InputError(property, `material source kind must be one of ${KINDS.join(', ')}, got ${typeof kind === 'string' ? JSON.stringify(kind) : typeof kind}`);
  }
  const shape = SHAPES[kind as MaterialSource['kind']];
  const out: Record<string, string> = { kind };
  for (const field of Object.keys(record)) {
    if (field !== 'kind' && !shape.required.includes(field) && !shape.optional.includes(field)) {
      throw new InputError(property, `unexpected field "${field}" in a ${kind} material source (allowed: ${[...shape.required, ...shape.optional].join(', ')})`);
    }
  }
  for (const field of [...shape.required, ...shape.optional]) {
    let fieldValue = record[field];
    if (fieldValue === undefined && shape.optional.includes(field)) {
      continue;
    }
    // CloudFormation passes booleans as strings; accept either for withDecryption.
    if (field === 'withDecryption' && typeof fieldValue === 'boolean') {
      fieldValue = String(fieldValue);
    }
    if (typeof fieldValue !== 'string' || fieldValue.length === 0) {
      throw new InputError(property, `${kind} material source needs a non-empty string "${field}"`);
    }
    if (field === 'withDecryption' && fieldValue !== 'true' && fieldValue !== 'false') {
      throw new InputError(property, `withDecryption must be "true" or "false", got ${JSON.stringify(fieldValue)}`);
    }
    if (field === 'version' && !/^[1-9][0-9]{0,8}$/.test(fieldValue)) {
      throw new InputError(property, `the SSM parameter version must be a positive integer, got ${JSON.stringify(fieldValue)}; pin the version number SSM reports for the value to use`);
    }
    out[field] = fieldValue;
  }
  return out as unknown as MaterialSource;
}

/**
 * Reads certificate material as text: an inline value, a Secrets Manager secret (or one field of
 * its JSON), an SSM parameter (decrypted if asked), or an S3 object decoded as UTF-8.
 * Problems become errors naming `property` and the source (secret id, parameter name, object),
 * never the value.
 */
export async function readMaterial(source: MaterialSource, property: string): Promise<string> {
  switch (source.kind) {
    case 'inline':
      return source.value;
    case 'secret': {
      const secret = await getSecret(source, property);
      if (secret.text === undefined) {
        throw new InputError(property, `secret ${source.secretId} has no SecretString (a binary secret cannot hold PEM text); store the PEM as the secret's string value`);
      }
      return source.jsonField === undefined ? secret.text : jsonField(secret.text, source.secretId, source.jsonField, property);
    }
    case 'ssm':
      return getParameter(source.version === undefined ? source.parameterName : `${source.parameterName}:${source.version}`,
        source.withDecryption === 'true', property);
    case 's3': {
      const bytes = await getObject(source.bucket, source.key, property);
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new InputError(property, `s3://${source.bucket}/${source.key} is not UTF-8 text`);
      }
    }
    default:
      throw new InputError(property, `unknown material source kind ${JSON.stringify((source as { kind?: unknown }).kind)}`);
  }
}

/**
 * Reads material as exact bytes: an S3 object as stored, a binary secret's SecretBinary, and any
 * text source (inline, secret string or field, parameter) as its UTF-8 encoding.
 */
export async function readMaterialBytes(source: MaterialSource, property: string): Promise<Uint8Array> {
  if (source.kind === 's3') {
    return getObject(source.bucket, source.key, property);
  }
  if (source.kind === 'secret' && source.jsonField === undefined) {
    const secret = await getSecret(source, property);
    if (secret.text !== undefined) {
      return new TextEncoder().encode(secret.text);
    }
    if (secret.binary !== undefined) {
      return secret.binary;
    }
    throw new InputError(property, `secret ${source.secretId} has no value`);
  }
  return new TextEncoder().encode(await readMaterial(source, property));
}

const SECRET_ERRORS: Record<string, ErrorExplainer> = {
  ResourceNotFoundException: () => 'the secret, or the version pinned, does not exist; check the secret ARN or name and the versionId or versionStage',
  AccessDeniedException: () => 'the handler may not read the secret; grant it secretsmanager:GetSecretValue (and kms:Decrypt on the secret\'s key)',
  DecryptionFailure: () => 'the secret cannot be decrypted with its KMS key; grant the handler kms:Decrypt on the key, or check the key is enabled',
  InvalidRequestException: () => 'the secret cannot be read now (it may be scheduled for deletion); restore it or point to another secret',
};

async function getSecret(
  source: { secretId: string; versionId?: string; versionStage?: string },
  property: string,
): Promise<{ text?: string; binary?: Uint8Array }> {
  const { secretId, versionId, versionStage } = source;
  const pin = versionId !== undefined ? ` version ${versionId}` : versionStage !== undefined ? ` stage ${versionStage}` : '';
  try {
    const out = await secretsManager.call('secretsmanager:GetSecretValue', ({ sdk, client }) => client.send(new sdk.GetSecretValueCommand({
      SecretId: secretId,
      VersionId: versionId,
      VersionStage: versionStage,
    })));
    return { text: out.SecretString, binary: out.SecretBinary };
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException') {
      throw new InputError(property, pin
        ? `secret ${secretId} has no${pin}; pin a version the secret holds (a version without a staging label may have been removed by Secrets Manager)`
        : `secret ${secretId} does not exist; check the secret ARN or name`);
    }
    throw translateError(e, SECRET_ERRORS, `${property} (secret ${secretId}${pin})`);
  }
}

function jsonField(text: string, secretId: string, field: string, property: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's own message quotes the text, which is secret: say only what is wrong.
    throw new InputError(property, `secret ${secretId} is not a JSON object, so its field "${field}" cannot be read; omit the field to use the whole secret`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(property, `secret ${secretId} is not a JSON object, so its field "${field}" cannot be read; omit the field to use the whole secret`);
  }
  const record = parsed as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(record, field)) {
    const available = Object.keys(record).slice(0, 20).map((k) => JSON.stringify(k)).join(', ');
    throw new InputError(property, `secret ${secretId} has no field "${field}" (fields: ${available || 'none'})`);
  }
  const value = record[field];
  if (typeof value !== 'string') {
    throw new InputError(property, `field "${field}" of secret ${secretId} is not a string`);
  }
  return value;
}

const PARAMETER_ERRORS: Record<string, ErrorExplainer> = {
  ParameterVersionNotFound: () => 'the parameter version does not exist; check the parameter name',
  AccessDeniedException: () => 'the handler may not read the parameter; grant it ssm:GetParameter (and kms:Decrypt for a SecureString)',
  InvalidKeyId: () => 'the parameter\'s KMS key cannot be used; check the key is enabled and the handler may use it',
};

async function getParameter(name: string, withDecryption: boolean, property: string): Promise<string> {
  let parameter;
  try {
    const out = await ssm.call('ssm:GetParameter', ({ sdk, client }) => client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: withDecryption })));
    parameter = out.Parameter;
  } catch (e) {
    if (errorName(e) === 'ParameterNotFound') {
      throw new InputError(property, `SSM parameter ${name} does not exist; check the parameter name (and region)`);
    }
    throw translateError(e, PARAMETER_ERRORS, `${property} (SSM parameter ${name})`);
  }
  if (parameter?.Type === 'SecureString' && !withDecryption) {
    throw new InputError(property, `SSM parameter ${name} is a SecureString; read it as a secure string so it is decrypted`);
  }
  if (parameter?.Value === undefined) {
    throw new InputError(property, `SSM parameter ${name} has no value`);
  }
  return parameter.Value;
}

const OBJECT_ERRORS: Record<string, ErrorExplainer> = {
  AccessDenied: () => 'the handler may not read the object (S3 also answers AccessDenied for a missing object when the reader lacks s3:ListBucket); grant it s3:GetObject and check the key',
  InvalidObjectState: () => 'the object is archived; restore it or copy it to a readable storage class',
};

async function getObject(bucket: string, key: string, property: string): Promise<Uint8Array> {
  const where = `s3://${bucket}/${key}`;
  try {
    const out = await s3.call('s3:GetObject', ({ sdk, client }) => client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })));
    if (!out.Body) {
      throw new InputError(property, `${where} has no body`);
    }
    // A stream is read once: a failure here is not retried.
    return await out.Body.transformToByteArray();
  } catch (e) {
    const name = errorName(e);
    if (name === 'NoSuchKey' || name === 'NotFound') {
      throw new InputError(property, `${where} does not exist; check the bucket and key`);
    }
    if (name === 'NoSuchBucket') {
      throw new InputError(property, `bucket ${bucket} does not exist; check the bucket name`);
    }
    throw translateError(e, OBJECT_ERRORS, `${property} (${where})`);
  }
}
