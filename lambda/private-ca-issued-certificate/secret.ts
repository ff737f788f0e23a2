/** The certificate's secret: its JSON document, read and written through Secrets Manager. */
import { service } from '../shared/clients';
import { ErrorExplainer, errorMessage, errorName, translateError } from '../shared/errors';
import { log } from '../shared/log';

// Made once per container, on first use; a concurrent change of the secret is retried too.
const secrets = service({
  load: () => import('@aws-sdk/client-secrets-manager'),
  client: (sdk) => new sdk.SecretsManagerClient({}),
  retryOn: ['ConcurrentModificationException'],
});

export /** The secret's JSON value. Only `privateKey`, `certificate` and `certificateChain` are for consumers. */
interface SecretDocument {
  privateKey?: string;
  certificate?: string;
  certificateChain?: string;
  certificateArn?: string;
  /** Which request the stored certificate answers (hash of stack, logical ID and inputs). */
  issuance?: string;
  /** A key generated for a request that has not completed yet, with its exact CSR. */
  pendingPrivateKey?: string;
  pendingCsr?: string;
  pendingIssuance?: string;
}

const SECRET_ERRORS: Record<string, ErrorExplainer> = {
  ResourceNotFoundException: () => 'the certificate\'s secret does not exist (was it deleted outside CloudFormation?)',
  AccessDeniedException: () => 'the handler may not write the certificate\'s secret; it needs secretsmanager:PutSecretValue on it (and kms:GenerateDataKey on secretEncryptionKey)',
  InvalidRequestException: (e) => `the certificate's secret cannot take a new value (${errorMessage(e)}); if it is scheduled for deletion, restore it`,
  EncryptionFailure: () => 'the certificate\'s secret cannot be encrypted with secretEncryptionKey; check the key is enabled and the handler may use it',
  DecryptionFailure: () => 'the certificate\'s secret cannot be decrypted with secretEncryptionKey; check the key is enabled and the handler may use it',
  LimitExceededException: () => 'the certificate\'s secret has too many versions; deploy again later',
};

/** A version of the secret: its document and its VersionId (absent while the secret is empty). */
export interface StoredDocument {
  readonly doc: SecretDocument;
  readonly versionId?: string;
}

/** The document at a staging label (AWSCURRENT unless told). */
export async function readSecret(secretArn: string, versionStage: 'AWSCURRENT' | 'AWSPREVIOUS' = 'AWSCURRENT'): Promise<StoredDocument> {
  let text: string | undefined;
  let versionId: string | undefined;
  try {
    const response = await secrets.call('secretsmanager:GetSecretValue', ({ sdk, client }) => client.send(new sdk.GetSecretValueCommand({
      SecretId: secretArn,
      VersionStage: versionStage,
    })));
    text = response.SecretString;
    versionId = response.VersionId;
  } catch (e) {
    // A new secret has no value (no AWSCURRENT version) until the first write.
    if (errorName(e) === 'ResourceNotFoundException') {
      return { doc: {} };
    }
    throw translateError(e, SECRET_ERRORS, 'secret');
  }
  if (text === undefined || text.trim() === '') {
    return { doc: {}, versionId };
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return { doc: parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as SecretDocument : {}, versionId };
  } catch {
    // Not ours (someone wrote another value): it holds nothing to keep.
    log('warn', 'the certificate\'s secret does not hold JSON; it will be overwritten', { secretArn });
    return { doc: {}, versionId };
  }
}

/**
 * Writes a new version and returns its VersionId. A `versionId` makes the write idempotent
 * (Secrets Manager's ClientRequestToken): a retried write of the same document is the same version.
 */
export async function writeSecret(secretArn: string, doc: SecretDocument, versionId?: string): Promise<string> {
  try {
    const response = await secrets.call('secretsmanager:PutSecretValue', ({ sdk, client }) => client.send(new sdk.PutSecretValueCommand({
      SecretId: secretArn,
      SecretString: JSON.stringify(doc),
      ClientRequestToken: versionId,
    })));
    return response.VersionId ?? versionId ?? '';
  } catch (e) {
    throw translateError(e, SECRET_ERRORS, 'secret');
  }
}


export function withoutPending(doc: SecretDocument): SecretDocument {
  const { pendingPrivateKey: _key, pendingCsr: _csr, pendingIssuance: _issuance, ...rest } = doc;
  return rest;
}
