/**
 * `Custom::AlibabaKmsCertificate`: certificates in Alibaba Cloud KMS Certificates Manager (the
 * work is in ./certificate: why create mode spans onEvent and isComplete, and its residual risks;
 * the properties in ./request, the KMS connection in ./kms, the ACM Private CA side in ./pca).
 */
import { alibabaKmsCertificate } from './certificate';
import { scrub } from './kms';
import { ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE, AlibabaKmsCertificateResourceProperties } from '../../src/contract/alibaba-kms-certificate';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<AlibabaKmsCertificateResourceProperties>({
  name: 'alibaba-kms-certificate',
  resources: { [ALIBABA_KMS_CERTIFICATE_RESOURCE_TYPE]: alibabaKmsCertificate },
  // No credential value reaches CloudFormation or the logs.
  mapError: scrub,
});

/** The Provider framework's entry points. */
export const onEvent = handler.onEvent;
export const isComplete = handler.isComplete;

// What the test tiers call and turn on the shipped bundle (no real backoff waits), as on the sources.
export { settings } from './kms';
export { pcaSettings } from './pca';
export { identityOf, parseRequest } from './request';
export { retryConfig } from '../shared/retry';
