import { getCertificate, getDistribution, lightsail, lightsailError } from './lightsail';
import { DISTRIBUTION_REGION, certificateNameProblem } from '../../src/contract/lightsail-certificate';
import type { LightsailAttachmentResourceProperties } from '../../src/contract/lightsail-certificate';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { InputError, errorName } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';

const CONTEXT = 'LightsailCertificate.attachToDistribution';

interface AttachmentInput {
  readonly certificateName: string;
  readonly distributionName: string;
}

function attachmentInput(props: LightsailAttachmentResourceProperties): AttachmentInput {
  if (props.Region !== DISTRIBUTION_REGION) {
    throw new InputError('region', `the certificate is in ${String(props.Region)}, but only certificates in ${DISTRIBUTION_REGION} can be attached to Lightsail distributions; set forDistribution: true`);
  }
  const certificateName = String(props.CertificateName ?? '');
  const nameIssue = certificateNameProblem(certificateName);
  if (nameIssue) {
    throw new InputError('certificateName', nameIssue);
  }
  const distributionName = String(props.DistributionName ?? '');
  if (distributionName.length === 0) {
    throw new InputError('distributionName', 'must not be empty');
  }
  return { certificateName, distributionName };
}

function physicalId(input: AttachmentInput): string {
  return `${input.distributionName}/${input.certificateName}`;
}

/**
 * `Custom::LightsailCertificateAttachment`: AttachCertificateToDistribution on create (and when
 * the certificate or distribution changes), DetachCertificateFromDistribution on delete, but only
 * while the distribution still uses this certificate (a replacement may have attached its successor).
 */
export const lightsailAttachment: ResourceLifecycle<LightsailAttachmentResourceProperties> = {
  create: attach,
  update: attach,
  delete: detach,
};

async function attach(event: OnEventRequest<LightsailAttachmentResourceProperties>): Promise<OnEventResponse> {
  const input = attachmentInput(event.ResourceProperties);
  if (event.RequestType === 'Update' && event.PhysicalResourceId === physicalId(input)) {
    // Same certificate on the same distribution (only the removal policy can have changed).
    return { PhysicalResourceId: physicalId(input), Data: { DistributionName: input.distributionName, CertificateName: input.certificateName } };
  }
  const where = `${CONTEXT} ('${input.certificateName}' to distribution '${input.distributionName}')`;
  const distribution = await getDistribution(input.distributionName, where);
  if (!distribution) {
    throw new InputError('distributionName', `there is no Lightsail distribution named '${input.distributionName}' (distributions live in ${DISTRIBUTION_REGION}); check the name`);
  }
  if (distribution.certificateName === input.certificateName) {
    log('info', 'certificate already attached', { distributionName: input.distributionName, certificateName: input.certificateName });
  } else {
    const certificate = await getCertificate(DISTRIBUTION_REGION, input.certificateName, where);
    if (!certificate) {
      throw new Error(`${where}: the certificate does not exist in ${DISTRIBUTION_REGION}`);
    }
    if (certificate.status !== 'ISSUED') {
      throw new Error(`${where}: the certificate is ${certificate.status ?? 'not issued'}; only an ISSUED certificate can be attached: keep waitForValidation (the default with a hosted zone), or create its validation records and deploy again once it is issued`);
    }
    try {
      await lightsail.call('lightsail:AttachCertificateToDistribution', ({ sdk, client }) => client.send(new sdk.AttachCertificateToDistributionCommand({
        distributionName: input.distributionName,
        certificateName: input.certificateName,
      })), { region: DISTRIBUTION_REGION });
    } catch (e) {
      throw lightsailError(e, `${where}: AttachCertificateToDistribution`, 'the certificate must cover the distribution\'s domains and the distribution must not be mid-update; check distributionName and the certificate\'s domains');
    }
    log('info', 'attached certificate', { distributionName: input.distributionName, certificateName: input.certificateName });
  }
  return { PhysicalResourceId: physicalId(input), Data: { DistributionName: input.distributionName, CertificateName: input.certificateName } };
}

async function detach(event: OnEventRequest<LightsailAttachmentResourceProperties>): Promise<OnEventResponse> {
  const id = String(event.PhysicalResourceId ?? '');
  const props = event.ResourceProperties;
  if (props.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: leaving the certificate attached', { physicalId: id });
    return { PhysicalResourceId: id };
  }
  const distributionName = String(props.DistributionName ?? '');
  const certificateName = String(props.CertificateName ?? '');
  if (id !== `${distributionName}/${certificateName}`) {
    log('info', 'nothing to detach: the attach did not complete', { physicalId: id });
    return { PhysicalResourceId: id };
  }
  const where = `${CONTEXT} ('${certificateName}' from distribution '${distributionName}')`;
  const distribution = await getDistribution(distributionName, where);
  if (!distribution || distribution.certificateName !== certificateName) {
    log('info', 'the distribution no longer uses this certificate; nothing to detach', { distributionName, certificateName });
    return { PhysicalResourceId: id };
  }
  try {
    await lightsail.call('lightsail:DetachCertificateFromDistribution', ({ sdk, client }) => client.send(new sdk.DetachCertificateFromDistributionCommand({ distributionName })), { region: DISTRIBUTION_REGION });
  } catch (e) {
    if (errorName(e) === 'NotFoundException') {
      return { PhysicalResourceId: id };
    }
    throw lightsailError(e, `${where}: DetachCertificateFromDistribution`, 'the distribution may be mid-update; delete again in a few minutes');
  }
  log('info', 'detached certificate', { distributionName, certificateName });
  return { PhysicalResourceId: id };
}
