import { attachmentOnEvent } from './attachment';
import { certificateOnEvent } from './certificate';
import { validationIsComplete, validationOnEvent } from './validation';
import {
  LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE,
  LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE,
  LIGHTSAIL_VALIDATION_RESOURCE_TYPE,
} from '../../src/contract/lightsail-certificate';
import type {
  LightsailAttachmentResourceProperties,
  LightsailCertificateResourceProperties,
  LightsailValidationResourceProperties,
} from '../../src/contract/lightsail-certificate';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from '../shared/cfn';
import { describeEvent, log } from '../shared/log';

type AnyProps = LightsailCertificateResourceProperties | LightsailValidationResourceProperties | LightsailAttachmentResourceProperties;

/**
 * One handler for the three resource types of `LightsailCertificate`, told apart by ResourceType:
 * the certificate (returns its validation records at once), the wait for ISSUED (after the DNS
 * records exist) and the attachment to a distribution.
 */
export async function onEvent(event: OnEventRequest<AnyProps>): Promise<OnEventResponse> {
  log('info', 'onEvent', { event: describeEvent(event) });
  try {
    switch (event.ResourceType) {
      case LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE:
        return await certificateOnEvent(event as OnEventRequest<LightsailCertificateResourceProperties>);
      case LIGHTSAIL_VALIDATION_RESOURCE_TYPE:
        return await validationOnEvent(event as OnEventRequest<LightsailValidationResourceProperties>);
      case LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE:
        return await attachmentOnEvent(event as OnEventRequest<LightsailAttachmentResourceProperties>);
      default:
        throw new Error(`this handler serves ${LIGHTSAIL_CERTIFICATE_RESOURCE_TYPE}, ${LIGHTSAIL_VALIDATION_RESOURCE_TYPE} and ${LIGHTSAIL_ATTACHMENT_RESOURCE_TYPE}, not ${String(event.ResourceType)}`);
    }
  } catch (e) {
    log('error', 'onEvent failed', { requestType: event.RequestType, resourceType: event.ResourceType, error: e });
    throw e;
  }
}

/**
 * Only the validation resource waits; the certificate and the attachment are complete as soon as
 * onEvent returns (the certificate must not wait for ISSUED: its DNS records depend on it).
 */
export async function isComplete(event: IsCompleteRequest<AnyProps>): Promise<IsCompleteResponse> {
  if (event.ResourceType !== LIGHTSAIL_VALIDATION_RESOURCE_TYPE) {
    return { IsComplete: true };
  }
  try {
    return await validationIsComplete(event as IsCompleteRequest<LightsailValidationResourceProperties>);
  } catch (e) {
    log('error', 'isComplete failed', { requestType: event.RequestType, resourceType: event.ResourceType, error: e });
    throw e;
  }
}

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { retryConfig } from '../shared/retry';
export { certificateTiming } from './certificate';
export { validationClock } from './validation';
