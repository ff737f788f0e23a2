/** `Custom::DmsCertificate`: a certificate imported into DMS (the work is in ./certificate). */
import { dmsCertificate, dmsCertificateError } from './certificate';
import { DMS_CERTIFICATE_RESOURCE_TYPE, DmsCertificateResourceProperties } from '../../src/contract/dms-certificate';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<DmsCertificateResourceProperties>({
  name: 'dms-certificate',
  resources: { [DMS_CERTIFICATE_RESOURCE_TYPE]: dmsCertificate },
  mapError: dmsCertificateError,
});

/** The Provider framework's onEvent entry point. */
export const onEvent = handler.onEvent;

// What the test tiers call and turn on the shipped bundle (no real backoff waits), as on the sources.
export { create, desiredState, sameContent, settings } from './certificate';
export type { Desired } from './certificate';
export { retryConfig } from '../shared/retry';
