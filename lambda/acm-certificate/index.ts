/** `Custom::AcmImportedCertificate`: a certificate imported into ACM (the work is in ./certificate). */
import { acmCertificateError, acmImportedCertificate } from './certificate';
import { ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE, AcmImportedCertificateResourceProperties } from '../../src/contract/acm-certificate';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<AcmImportedCertificateResourceProperties>({
  name: 'acm-certificate',
  resources: { [ACM_IMPORTED_CERTIFICATE_RESOURCE_TYPE]: acmImportedCertificate },
  mapError: acmCertificateError,
});

/** The Provider framework's onEvent entry point. */
export const onEvent = handler.onEvent;

// What the test tiers call and turn on the shipped bundle (no real backoff waits), as on the sources.
export { desiredState, settings } from './certificate';
export { retryConfig } from '../shared/retry';
