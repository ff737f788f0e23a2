/** `Custom::ServerCertificate`: an IAM server certificate (the work is in ./certificate). */
import { serverCertificate, serverCertificateError } from './certificate';
import { SERVER_CERTIFICATE_RESOURCE_TYPE, ServerCertificateResourceProperties } from '../../src/contract/server-certificate';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<ServerCertificateResourceProperties>({
  name: 'server-certificate',
  resources: { [SERVER_CERTIFICATE_RESOURCE_TYPE]: serverCertificate },
  mapError: serverCertificateError,
});

/** The Provider framework's onEvent entry point. */
export const onEvent = handler.onEvent;

// What the test tiers call and turn on the shipped bundle (no real backoff waits), as on the sources.
export { desiredState, settings } from './certificate';
export { retryConfig } from '../shared/retry';
