import { failureError } from './failure';
import { LightsailCertificate, getCertificate } from './lightsail';
import { certificateNameProblem, regionProblem } from '../../src/contract/lightsail-certificate';
import type { LightsailValidationResourceProperties } from '../../src/contract/lightsail-certificate';
import type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from '../shared/cfn';
import { InputError } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';

/** The clock isComplete measures the timeout with; tests replace it. */
export const validationClock = {
  now: (): number => Date.now(),
};

const CONTEXT = 'LightsailCertificate';

interface ValidationInput {
  readonly region: string;
  readonly certificateName: string;
  readonly certificateArn: string;
  readonly timeoutSeconds: number;
}

function validationInput(props: LightsailValidationResourceProperties): ValidationInput {
  const region = String(props.Region ?? '');
  const regionIssue = regionProblem(region);
  if (regionIssue) {
    throw new InputError('region', regionIssue);
  }
  const certificateName = String(props.CertificateName ?? '');
  const nameIssue = certificateNameProblem(certificateName);
  if (nameIssue) {
    throw new InputError('certificateName', nameIssue);
  }
  const timeoutSeconds = Number(props.TimeoutSeconds);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new InputError('validationTimeout', `must be a positive number of seconds, got '${String(props.TimeoutSeconds)}'`);
  }
  return { region, certificateName, certificateArn: String(props.CertificateArn ?? ''), timeoutSeconds };
}

function baseData(certificate: LightsailCertificate): Record<string, string> {
  return {
    CertificateArn: certificate.arn,
    CertificateName: certificate.name,
    Status: certificate.status ?? 'PENDING_VALIDATION',
  };
}

async function currentCertificate(input: ValidationInput): Promise<LightsailCertificate> {
  const where = `${CONTEXT} '${input.certificateName}' in ${input.region}`;
  const certificate = await getCertificate(input.region, input.certificateName, where);
  if (!certificate || certificate.arn !== input.certificateArn) {
    throw new Error(`${where}: the certificate being validated (${input.certificateArn}) no longer exists; it was deleted outside CloudFormation: deploy again so it is requested anew`);
  }
  return certificate;
}

/**
 * `Custom::LightsailCertificateValidation`: onEvent records when the wait began and hands over to
 * isComplete, which waits for ISSUED. It runs after the DNS records exist (it depends on them), so
 * validation can finish. Waiting leaves nothing behind to delete.
 */
export const lightsailValidation: ResourceLifecycle<LightsailValidationResourceProperties> = {
  create: startWait,
  update: startWait,
  delete: async (event) => ({ PhysicalResourceId: event.PhysicalResourceId }),
  isComplete: validationIsComplete,
};

async function startWait(event: OnEventRequest<LightsailValidationResourceProperties>): Promise<OnEventResponse> {
  const input = validationInput(event.ResourceProperties);
  const certificate = await currentCertificate(input);
  let waitRequired = true;
  if (event.RequestType === 'Update' && event.OldResourceProperties) {
    const old = event.OldResourceProperties;
    // The same certificate was waited for when it was created: only a new one needs a new wait.
    waitRequired = old.CertificateArn !== event.ResourceProperties.CertificateArn
      || old.CertificateName !== event.ResourceProperties.CertificateName
      || old.Region !== event.ResourceProperties.Region;
  }
  log('info', waitRequired ? 'waiting for the certificate to be issued' : 'certificate already waited for', {
    certificateName: input.certificateName,
    region: input.region,
    status: certificate.status,
    timeoutSeconds: input.timeoutSeconds,
  });
  return {
    PhysicalResourceId: input.certificateArn,
    Data: {
      ...baseData(certificate),
      WaitStartedAt: new Date(validationClock.now()).toISOString(),
      WaitRequired: waitRequired ? 'true' : 'false',
    },
  };
}

/**
 * `Custom::LightsailCertificateValidation` isComplete: done when the certificate is ISSUED; fails
 * with Lightsail's reason when validation fails, and with what to check when the timeout passes.
 */
async function validationIsComplete(event: IsCompleteRequest<LightsailValidationResourceProperties>): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete' || event.Data?.WaitRequired === 'false') {
    return { IsComplete: true };
  }
  const input = validationInput(event.ResourceProperties);
  const where = `${CONTEXT} '${input.certificateName}' in ${input.region}`;
  const certificate = await currentCertificate(input);
  switch (certificate.status) {
    case 'ISSUED':
      log('info', 'certificate issued', { certificateName: input.certificateName, region: input.region });
      return { IsComplete: true, Data: baseData(certificate) };
    case 'FAILED':
      throw failureError(certificate, where);
    case 'VALIDATION_TIMED_OUT':
      throw new Error(`${where}: Lightsail stopped validating (it waits 72 hours for the DNS records); check the records, then change a domain or certificateName so a new certificate is requested`);
    case 'REVOKED':
    case 'EXPIRED':
    case 'INACTIVE':
      throw new Error(`${where}: the certificate is ${certificate.status} and cannot be issued; change a domain or certificateName so a new certificate is requested`);
    default:
      break;
  }
  const started = Date.parse(event.Data?.WaitStartedAt ?? '');
  const elapsedMs = validationClock.now() - (Number.isNaN(started) ? validationClock.now() : started);
  if (elapsedMs >= input.timeoutSeconds * 1000) {
    throw new Error(`${where}: still ${certificate.status ?? 'PENDING_VALIDATION'} after ${describeSeconds(input.timeoutSeconds)} (validationTimeout). `
      + `Lightsail has not yet seen ${pendingRecords(certificate)}. Check that these CNAME records are in the public hosted zone that is authoritative for each domain `
      + '(the registrar must delegate to its name servers), then deploy again; or raise validationTimeout, or set waitForValidation to false and let validation finish after the deploy');
  }
  log('info', 'certificate not issued yet', {
    certificateName: input.certificateName,
    status: certificate.status,
    elapsedSeconds: Math.round(elapsedMs / 1000),
  });
  return { IsComplete: false };
}

function pendingRecords(certificate: LightsailCertificate): string {
  const pending = (certificate.domainValidationRecords ?? [])
    .filter((r) => r.validationStatus !== 'SUCCESS' && r.resourceRecord?.name)
    .map((r) => `${r.domainName}: ${r.resourceRecord?.type ?? 'CNAME'} ${r.resourceRecord?.name} -> ${r.resourceRecord?.value}`);
  return pending.length > 0 ? `the validation records (${[...new Set(pending)].join('; ')})` : 'the validation records';
}

function describeSeconds(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}
