/**
 * `Custom::PrivateCaIssuedCertificate`: a key pair made here, a CSR, ACM Private CA's
 * IssueCertificate, and the key + certificate + chain stored in the construct's secret
 * (./certificate; the properties in ./request, the secret in ./secret, the key and CSR in ./csr).
 */
import { issuedCertificate } from './certificate';
import { ISSUED_CERTIFICATE_RESOURCE_TYPE, IssuedCertificateResourceProperties } from '../../src/contract/issued-certificate';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<IssuedCertificateResourceProperties>({
  name: 'private-ca-issued-certificate',
  // Service errors are explained where they happen (the ACM Private CA and secret calls).
  resources: { [ISSUED_CERTIFICATE_RESOURCE_TYPE]: issuedCertificate },
});

/** The Provider framework's onEvent entry point. */
export const onEvent = handler.onEvent;

// What the test tiers call and turn on the shipped bundle (no real backoff waits), as on the sources.
export { revocationSerial, settings } from './certificate';
export { idempotencyToken, issuanceInputs, parseRequest } from './request';
export { retryConfig } from '../shared/retry';
