/**
 * A thin, typed layer over Alibaba Cloud's own OpenAPI client (`@alicloud/openapi-client`) for the
 * KMS Certificates Manager operations (API version 2016-01-20, RPC style, ACS3-HMAC-SHA256 signing).
 *
 * The npm registry reachable here only serves `@alicloud/kms20160120` 1.x, which predates the
 * certificate operations, so every call goes through the client's generic `callApi` with exactly
 * the `Params` and parameter placement the generated 2016-01-20 client uses: every request
 * parameter in the query string, POST to `/`, `formData` request body type (empty here), JSON
 * replies. Switching to a newer generated client later therefore changes nothing on the wire.
 *
 * KMS has no idempotency token for CreateCertificate and no ListCertificates operation (certificates
 * cannot be found again without their ID), so nothing here retries on its own: the client's
 * `autoretry` is off, and errors are rethrown exactly as the client raised them (`code`,
 * `statusCode`, `data`) so the handler can decide. `isKmsThrottling`, `isKmsTransient`,
 * `isKmsNotFound`, `isKmsCredentialError` and `isKmsNetworkError` recognise the codes.
 *
 * No imports from aws-cdk-lib or constructs; no logging (credentials never leave this module).
 */
import type OpenApiClient from '@alicloud/openapi-client';
import { optionalString, parseBoolean, parseStringList, parseTags, requiredString, requireValue } from './kms-values';
import { lazy } from '../shared/lazy';

// Loaded on the first KMS call, not at module load: it and its dependencies are most of the
// handler's cold start.
const openApi = lazy(async () => {
  const sdk = await import('@alicloud/openapi-client');
  // The client class is the CommonJS module's `default` export. esbuild (the bundle) and ts-jest
  // hand it over as `default`; Node's own import() (which TypeScript's node16 types describe) hands
  // over the whole module there, the class at `default.default`.
  const interop = sdk.default as unknown as { readonly default?: typeof OpenApiClient };
  const Client = interop.default ?? (sdk.default as unknown as typeof OpenApiClient);
  return { Client, Config: sdk.Config, OpenApiRequest: sdk.OpenApiRequest, Params: sdk.Params };
});

/** `callApi`'s runtime options type (a tea-util class the package does not re-export). */
type RuntimeOptions = Parameters<OpenApiClient['callApi']>[2];

/** The KMS API version that carries the Certificates Manager operations. */
export const KMS_API_VERSION = '2016-01-20';

/** The request signature algorithm this layer configures on the client. */
export const KMS_SIGNATURE_ALGORITHM = 'ACS3-HMAC-SHA256';

/** Key types CreateCertificate accepts. */
export type KmsKeySpec = 'RSA_2048' | 'EC_P256' | 'EC_SM2';

/** Certificate states reported by DescribeCertificate. */
export type KmsCertificateStatus = 'PENDING' | 'ACTIVE' | 'INACTIVE' | 'REVOKED';

/** Alibaba Cloud credentials (an AccessKey pair, or an STS token triple). */
export interface KmsCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** STS security token; when set, the key pair is temporary. */
  readonly securityToken?: string;
}

/** How to reach KMS. */
export interface KmsClientOptions {
  /** Region ID, e.g. `cn-hangzhou`. */
  readonly regionId: string;
  /**
   * Endpoint host (and optional port) without scheme.
   * @default `kms.<regionId>.aliyuncs.com`
   */
  readonly endpoint?: string;
  /** @default 'https' */
  readonly protocol?: 'https' | 'http';
  readonly credentials: KmsCredentials;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** @default 30000 */
  readonly readTimeoutMs?: number;
  /** Appended to the client's own User-Agent. @default 'cdk-certificates' */
  readonly userAgent?: string;
}

/** CreateCertificate input. */
export interface CreateCertificateInput {
  /** RFC 2253 distinguished name; CN, C, O and OU are required by the service. */
  readonly subject: string;
  /** DNS names (at most ten); sent as a JSON array string. */
  readonly subjectAlternativeNames?: readonly string[];
  readonly keySpec: KmsKeySpec;
  /**
   * Whether the private key may ever be exported. Always sent explicitly, because the service's
   * own default is `true`.
   * @default false
   */
  readonly exportablePrivateKey?: boolean;
}

/** CreateCertificate result: the new certificate (status PENDING) and its CSR. */
export interface CreatedCertificate {
  readonly certificateId: string;
  readonly arn: string;
  /** PEM `CERTIFICATE REQUEST` for the key KMS generated. */
  readonly csr: string;
  readonly requestId: string;
}

/** UploadCertificate input. */
export interface UploadCertificateInput {
  readonly certificateId: string;
  /** PEM certificate issued for the certificate's CSR. */
  readonly certificate: string;
  /** PEM chain (issuing CA first, root last). */
  readonly certificateChain?: string;
}

/** DescribeCertificate result, normalised. */
export interface KmsCertificateDescription {
  readonly certificateId: string;
  readonly arn: string;
  /** PENDING until a certificate is uploaded. */
  readonly status: string;
  readonly keySpec?: string;
  readonly subject?: string;
  readonly subjectAlternativeNames: string[];
  readonly issuer?: string;
  /** As KMS reports it (`Serial`). Absent while PENDING. */
  readonly serialNumber?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly signatureAlgorithm?: string;
  readonly exportablePrivateKey?: boolean;
  readonly subjectKeyIdentifier?: string;
  /** PEM SPKI of the certificate's key. */
  readonly subjectPublicKey?: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly tags: Record<string, string>;
  readonly requestId: string;
}

/** GetCertificate result: the stored PEMs. */
export interface KmsCertificateMaterial {
  readonly certificateId: string;
  /** Absent while PENDING. */
  readonly certificate?: string;
  readonly certificateChain?: string;
  readonly csr?: string;
  readonly requestId: string;
}

/** The shape of errors `@alicloud/openapi-client` throws for an error reply. */
export interface KmsServiceError extends Error {
  /** Alibaba error code, e.g. `InvalidParameter`, `Throttling.User`. */
  readonly code?: string;
  readonly statusCode?: number;
  /** The parsed error body (`RequestId`, `HostId`, `Code`, `Message`, `Recommend`, `statusCode`). */
  readonly data?: Record<string, unknown>;
}

/** Codes KMS uses for "this certificate does not exist". */
export const KMS_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['Forbidden.ResourceNotFound', 'Certificate.NotFound']);

/** Codes that mean the credentials (not the request) are wrong. */
export const KMS_CREDENTIAL_ERROR_CODES: ReadonlySet<string> = new Set([
  'InvalidAccessKeyId.NotFound',
  'InvalidAccessKeyId.Inactive',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSecurityToken.Expired',
  'InvalidSecurityToken.Malformed',
  'InvalidSecurityToken.MismatchWithAccessKey',
]);

/** The Alibaba error code of an error thrown by the client, if any. */
export function kmsErrorCode(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') {
    return undefined;
  }
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.length > 0 ? code : undefined;
}

/** The HTTP status of an error reply, if any. */
export function kmsStatusCode(e: unknown): number | undefined {
  if (e === null || typeof e !== 'object') {
    return undefined;
  }
  const err = e as { statusCode?: unknown; data?: { statusCode?: unknown } };
  const status = typeof err.statusCode === 'number' ? err.statusCode : Number(err.data?.statusCode);
  return Number.isFinite(status) && status > 0 ? status : undefined;
}

/** Whether the error says the certificate does not exist. */
export function isKmsNotFound(e: unknown): boolean {
  const code = kmsErrorCode(e);
  return code !== undefined && KMS_NOT_FOUND_CODES.has(code);
}

/** Whether the error is request throttling (`Throttling`, `Throttling.User`, `Throttling.Api`, `Rejected.Throttling`). */
export function isKmsThrottling(e: unknown): boolean {
  const code = kmsErrorCode(e);
  return code !== undefined && (/^Throttling(\.|$)/.test(code) || code === 'Rejected.Throttling');
}

/**
 * Whether the error is throttling or a server-side fault (HTTP 5xx, `ServiceUnavailable`,
 * `InternalError`). A 5xx on CreateCertificate does not prove nothing was created.
 */
export function isKmsTransient(e: unknown): boolean {
  if (isKmsThrottling(e)) {
    return true;
  }
  const code = kmsErrorCode(e);
  if (code === 'ServiceUnavailable' || code === 'InternalError' || code === 'InternalFailure') {
    return true;
  }
  const status = kmsStatusCode(e);
  return status !== undefined && status >= 500;
}

/**
 * Whether the call failed below HTTP (connection refused or reset, DNS, connect/read timeout):
 * there is no Alibaba reply, so a CreateCertificate may or may not have taken effect.
 */
export function isKmsNetworkError(e: unknown): boolean {
  if (e === null || typeof e !== 'object' || kmsStatusCode(e) !== undefined) {
    return false;
  }
  const code = kmsErrorCode(e);
  const name = (e as { name?: unknown }).name;
  return (code !== undefined && /^E[A-Z0-9_]+$/.test(code)) || (typeof name === 'string' && /Timeout/.test(name));
}

/** Whether the error is about the credentials (unknown key, bad secret or token). */
export function isKmsCredentialError(e: unknown): boolean {
  const code = kmsErrorCode(e);
  return code !== undefined && KMS_CREDENTIAL_ERROR_CODES.has(code);
}

/** The default public endpoint of KMS in a region. */
export function defaultKmsEndpoint(regionId: string): string {
  return `kms.${regionId}.aliyuncs.com`;
}

/**
 * KMS Certificates Manager operations. One instance per credentials/endpoint; instances hold no
 * per-request state and may be reused.
 */
export class KmsCertificatesApi {
  private readonly client: () => Promise<OpenApiClient>;
  private readonly protocol: 'HTTPS' | 'HTTP';
  private readonly runtime: RuntimeOptions;

  constructor(options: KmsClientOptions) {
    if (!options.regionId) {
      throw new Error('KmsCertificatesApi: regionId is required');
    }
    const { accessKeyId, accessKeySecret, securityToken } = options.credentials ?? {};
    if (!accessKeyId || !accessKeySecret) {
      throw new Error('KmsCertificatesApi: credentials need accessKeyId and accessKeySecret');
    }
    const protocol = options.protocol ?? 'https';
    this.protocol = protocol === 'http' ? 'HTTP' : 'HTTPS';
    const config = {
      accessKeyId,
      accessKeySecret,
      securityToken: securityToken || undefined,
      regionId: options.regionId,
      endpoint: options.endpoint ?? defaultKmsEndpoint(options.regionId),
      // The client's protocol overrides the per-call Params protocol, so set both alike.
      protocol,
      signatureAlgorithm: KMS_SIGNATURE_ALGORITHM,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      readTimeout: options.readTimeoutMs ?? 30000,
      userAgent: options.userAgent ?? 'cdk-certificates',
    };
    // Made on the first call of this instance.
    this.client = lazy(async () => {
      const sdk = await openApi();
      return new sdk.Client(new sdk.Config(config));
    });
    // No automatic retries: CreateCertificate is not idempotent; the caller owns retry policy.
    this.runtime = { autoretry: false, maxAttempts: 1 } as unknown as RuntimeOptions;
  }

  /** CreateCertificate: KMS generates a key pair and returns a CSR; the certificate is PENDING. */
  async createCertificate(input: CreateCertificateInput): Promise<CreatedCertificate> {
    requireValue('subject', input.subject);
    requireValue('keySpec', input.keySpec);
    const query: Record<string, string> = {
      Subject: input.subject,
      KeySpec: input.keySpec,
      ExportablePrivateKey: String(input.exportablePrivateKey ?? false),
    };
    if (input.subjectAlternativeNames && input.subjectAlternativeNames.length > 0) {
      query.SubjectAlternativeNames = JSON.stringify(input.subjectAlternativeNames);
    }
    const body = await this.call('CreateCertificate', query);
    return {
      certificateId: requiredString(body, 'CertificateId', 'CreateCertificate'),
      arn: requiredString(body, 'Arn', 'CreateCertificate'),
      csr: requiredString(body, 'Csr', 'CreateCertificate'),
      requestId: optionalString(body.RequestId) ?? '',
    };
  }

  /** UploadCertificate: imports the CA-issued certificate (and chain) for a certificate's key. */
  async uploadCertificate(input: UploadCertificateInput): Promise<void> {
    requireValue('certificateId', input.certificateId);
    requireValue('certificate', input.certificate);
    const query: Record<string, string> = {
      CertificateId: input.certificateId,
      Certificate: input.certificate,
    };
    if (input.certificateChain) {
      query.CertificateChain = input.certificateChain;
    }
    await this.call('UploadCertificate', query);
  }

  /** DescribeCertificate; `undefined` when the certificate does not exist. */
  async describeCertificate(certificateId: string): Promise<KmsCertificateDescription | undefined> {
    requireValue('certificateId', certificateId);
    const body = await this.callIfExists('DescribeCertificate', { CertificateId: certificateId });
    if (body === undefined) {
      return undefined;
    }
    return {
      certificateId: optionalString(body.CertificateId) ?? certificateId,
      arn: requiredString(body, 'Arn', 'DescribeCertificate'),
      status: requiredString(body, 'Status', 'DescribeCertificate'),
      keySpec: optionalString(body.KeySpec),
      subject: optionalString(body.Subject),
      subjectAlternativeNames: parseStringList(body.SubjectAlternativeNames),
      issuer: optionalString(body.Issuer),
      serialNumber: optionalString(body.Serial),
      notBefore: optionalString(body.NotBefore),
      notAfter: optionalString(body.NotAfter),
      signatureAlgorithm: optionalString(body.SignatureAlgorithm),
      exportablePrivateKey: parseBoolean(body.ExportablePrivateKey),
      subjectKeyIdentifier: optionalString(body.SubjectKeyIdentifier),
      subjectPublicKey: optionalString(body.SubjectPublicKey),
      createdAt: optionalString(body.CreatedAt),
      updatedAt: optionalString(body.UpdatedAt),
      tags: parseTags(body.Tags),
      requestId: optionalString(body.RequestId) ?? '',
    };
  }

  /** GetCertificate (the stored certificate, chain and CSR); `undefined` when it does not exist. */
  async getCertificate(certificateId: string): Promise<KmsCertificateMaterial | undefined> {
    requireValue('certificateId', certificateId);
    const body = await this.callIfExists('GetCertificate', { CertificateId: certificateId });
    if (body === undefined) {
      return undefined;
    }
    return {
      certificateId: optionalString(body.CertificateId) ?? certificateId,
      certificate: optionalString(body.Certificate),
      certificateChain: optionalString(body.CertificateChain),
      csr: optionalString(body.Csr),
      requestId: optionalString(body.RequestId) ?? '',
    };
  }

  /** UpdateCertificateStatus (ACTIVE, INACTIVE or REVOKED). */
  async updateCertificateStatus(certificateId: string, status: Exclude<KmsCertificateStatus, 'PENDING'>): Promise<void> {
    requireValue('certificateId', certificateId);
    requireValue('status', status);
    await this.call('UpdateCertificateStatus', { CertificateId: certificateId, Status: status });
  }

  /**
   * DeleteCertificate: deletes the certificate, its private key and chain (irreversible).
   * A certificate that no longer exists counts as deleted.
   * @returns `true` if this call deleted it, `false` if it was already gone.
   */
  async deleteCertificate(certificateId: string): Promise<boolean> {
    requireValue('certificateId', certificateId);
    try {
      await this.call('DeleteCertificate', { CertificateId: certificateId });
      return true;
    } catch (e) {
      if (isKmsNotFound(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * TagResource on a certificate (CreateCertificate itself takes no tags). KMS allows at most ten
   * tags per resource.
   */
  async tagCertificate(certificateId: string, tags: Record<string, string>): Promise<void> {
    requireValue('certificateId', certificateId);
    const list = Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    if (list.length === 0) {
      return;
    }
    await this.call('TagResource', { CertificateId: certificateId, Tags: JSON.stringify(list) });
  }

  /** UntagResource on a certificate. */
  async untagCertificate(certificateId: string, tagKeys: readonly string[]): Promise<void> {
    requireValue('certificateId', certificateId);
    if (tagKeys.length === 0) {
      return;
    }
    await this.call('UntagResource', { CertificateId: certificateId, TagKeys: JSON.stringify(tagKeys) });
  }

  /** One RPC call; every parameter goes in the query string, as the generated client does. */
  /** {@link call}, or `undefined` when KMS answers that the certificate does not exist. */
  private async callIfExists(action: string, query: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.call(action, query);
    } catch (e) {
      if (isKmsNotFound(e)) {
        return undefined;
      }
      throw e;
    }
  }

  private async call(action: string, query: Record<string, string>): Promise<Record<string, unknown>> {
    const sdk = await openApi();
    const client = await this.client();
    const params = new sdk.Params({
      action,
      version: KMS_API_VERSION,
      protocol: this.protocol,
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const request = new sdk.OpenApiRequest({ query });
    const response = await client.callApi(params, request, this.runtime);
    const body = (response as { body?: unknown }).body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Error(`KMS ${action} returned a reply without a JSON object body`);
    }
    return body as Record<string, unknown>;
  }
}
