/**
 * One handler for the three resource types of `LightsailCertificate`, told apart by ResourceType:
 * the certificate (returns its validation records at once: ./certificate), the wait for ISSUED
 * after the DNS records exist (./validation) and the attachment to a distribution (./attachment).
 * Only the validation waits; the others are complete as soon as onEvent returns (the certificate
 * must not wait for ISSUED: its DNS records depend on it).
 */
import { lightsailAttachment } from './attachment';
import { lightsailCertificate } from './certificate';
import { lightsailValidation } from './validation';
import {
  LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
  LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
  LightsailAttachmentResourceProperties,
  LightsailCertificateResourceProperties,
  LightsailValidationResourceProperties,
} from '../../src/contract/lightsail-certificate';
import { customResourceHandler } from '../shared/handler';

type AnyProps = LightsailCertificateResourceProperties | LightsailValidationResourceProperties | LightsailAttachmentResourceProperties;

const handler = customResourceHandler<AnyProps>({
  name: 'lightsail-certificate',
  resources: {
    [LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE]: lightsailCertificate,
    [LIGHTSAIL_VALIDATION_RESOURCE_TYPE]: lightsailValidation,
    [LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE]: lightsailAttachment,
  },
});

/** The Provider framework's entry points. */
export const onEvent = handler.onEvent;
export const isComplete = handler.isComplete;

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { retryConfig } from '../shared/retry';
export { certificateTiming } from './certificate';
export { validationClock } from './validation';
