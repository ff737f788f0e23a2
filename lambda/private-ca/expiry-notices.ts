/** `Custom::PrivateCaExpiryNotices`: the times of a CA's expiry notices. */
import { checkedCaArn } from './pca';
import {
  EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX,
  PrivateCaExpiryNoticesResourceProperties,
} from '../../src/contract/private-ca';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { earliestNotAfter, expiryNoticeData, parseNotifyDaysBefore } from '../shared/expiry';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';

type ExpiryNoticesEvent = OnEventRequest<PrivateCaExpiryNoticesResourceProperties>;

/**
 * Times the CA's expiry notices from its certificate: no API call, so Create and Update cannot
 * fail part-way; Delete has nothing to remove (the schedules are CloudFormation's).
 */
export const privateCaExpiryNotices: ResourceLifecycle<PrivateCaExpiryNoticesResourceProperties> = {
  create: timeNotices,
  update: timeNotices,
  delete: async (event) => ({
    PhysicalResourceId: event.PhysicalResourceId ?? String(event.ResourceProperties.CertificateAuthorityArn ?? '') + EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX,
  }),
};

async function timeNotices(event: ExpiryNoticesEvent): Promise<OnEventResponse> {
  const props = event.ResourceProperties;
  const arn = checkedCaArn(props.CertificateAuthorityArn);
  const days = parseNotifyDaysBefore(props.NotifyDaysBefore);
  const notAfter = earliestNotAfter(String(props.CaCertificate ?? ''), 'certificate');
  log('info', 'timed the expiry notices of the CA', { arn, notAfter: notAfter.toISOString(), daysBefore: days });
  return { PhysicalResourceId: arn + EXPIRY_NOTICES_PHYSICAL_ID_SUFFIX, Data: expiryNoticeData(notAfter, days, 'certificate') };
}
