import type * as LightsailSdk from '@aws-sdk/client-lightsail';
import { DISTRIBUTION_REGION } from '../../src/contract/lightsail-certificate';
import { Service, service } from '../shared/clients';
import { ErrorExplainer, errorMessage, errorName, translateError } from '../shared/errors';
import { log } from '../shared/log';

/**
 * Lightsail: the SDK loaded on the first call, then one client per region made on first use and
 * kept for the life of the container (the region comes from the resource properties: certificates
 * for distributions live in us-east-1 whatever the stack's region). Lightsail's own
 * `ServiceException` (a server fault) is retried with throttling and transient faults.
 */
export const lightsail: Service<typeof LightsailSdk, LightsailSdk.LightsailClient> = service({
  load: () => import('@aws-sdk/client-lightsail'),
  client: (sdk, region) => new sdk.LightsailClient({ region }),
  retryOn: ['ServiceException'],
});

/**
 * What each documented Lightsail error means for this construct. `InvalidInputException` and
 * `NotFoundException` carry the service's own message, which says which input it refused.
 */
export function lightsailErrors(inputHint: string): Record<string, ErrorExplainer> {
  return {
    InvalidInputException: (e) => `Lightsail refused the request: ${errorMessage(e)}; ${inputHint}`,
    NotFoundException: (e) => `Lightsail could not find the resource: ${errorMessage(e)}; ${inputHint}`,
    AccessDeniedException: (e) => `the handler's role may not make this Lightsail call (${errorMessage(e)}); check that no service control policy or permission boundary denies it the lightsail actions this construct grants`,
    UnauthenticatedException: (e) => `Lightsail could not authenticate the handler (${errorMessage(e)}); an account that never used Lightsail must open the Lightsail console once to set it up, then deploy again`,
    AccountSetupInProgressException: () => 'the account is still being set up for Lightsail; wait a few minutes and deploy again',
    RegionSetupInProgressException: () => 'the region is an opt-in region that Lightsail is still setting up (this takes a few minutes); wait and deploy again, or choose another region',
    OperationFailureException: (e) => `Lightsail could not complete the operation (${errorMessage(e)}); deploy again, and contact AWS Support if it keeps failing`,
    ServiceException: (e) => `Lightsail failed while handling the request (${errorMessage(e)}); deploy again later`,
  };
}

/** Turns a Lightsail error into one naming the construct, operation, region and what to change. */
export function lightsailError(e: unknown, context: string, inputHint: string): Error {
  return translateError(e, lightsailErrors(inputHint), context);
}

/** A certificate as the handler uses it: GetCertificates' detail (with the summary's fields as fallback). */
export type LightsailCertificate = LightsailSdk.Certificate & { readonly arn: string; readonly name: string };

/**
 * The certificate named `name` in `region` with its details, or undefined when there is none.
 * GetCertificates answers an unknown name with an empty list (or NotFoundException): both mean absent.
 */
export async function getCertificate(region: string, name: string, context: string): Promise<LightsailCertificate | undefined> {
  let out;
  try {
    out = await lightsail.call('lightsail:GetCertificates', ({ sdk, client }) => client.send(new sdk.GetCertificatesCommand({
      certificateName: name,
      includeCertificateDetails: true,
    })), { region });
  } catch (e) {
    if (errorName(e) === 'NotFoundException') {
      return undefined;
    }
    throw lightsailError(e, `${context}: GetCertificates in ${region}`, 'check the region');
  }
  const summary = (out.certificates ?? []).find((c) => (c.certificateName ?? c.certificateDetail?.name) === name);
  if (!summary) {
    return undefined;
  }
  const detail: LightsailSdk.Certificate = summary.certificateDetail ?? {};
  const arn = detail.arn ?? summary.certificateArn;
  if (!arn) {
    return undefined;
  }
  return {
    ...detail,
    arn,
    name,
    domainName: detail.domainName ?? summary.domainName,
    tags: detail.tags ?? summary.tags,
  };
}

/** The distribution named `name` (Lightsail distributions live in us-east-1), or undefined. */
export async function getDistribution(name: string, context: string): Promise<LightsailSdk.LightsailDistribution | undefined> {
  try {
    const out = await lightsail.call('lightsail:GetDistributions', ({ sdk, client }) => client.send(new sdk.GetDistributionsCommand({ distributionName: name })), { region: DISTRIBUTION_REGION });
    return (out.distributions ?? []).find((d) => d.name === name);
  } catch (e) {
    if (errorName(e) === 'NotFoundException') {
      return undefined;
    }
    throw lightsailError(e, `${context}: GetDistributions`, 'check distributionName');
  }
}

// Enough pages for any account's distributions; a cap keeps a misbehaving paginator finite.
const MAX_PAGES = 20;

/**
 * Names what uses a certificate: the distributions (us-east-1 only) and container services that
 * reference it. Lookup failures are logged and yield what was found so far: this only words an error.
 */
export async function describeCertificateUsers(region: string, certificateName: string): Promise<string[]> {
  const users: string[] = [];
  if (region === DISTRIBUTION_REGION) {
    try {
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await lightsail.call('lightsail:GetDistributions', ({ sdk, client }) => client.send(new sdk.GetDistributionsCommand({ pageToken })), { region });
        for (const d of out.distributions ?? []) {
          if (d.certificateName === certificateName && d.name) {
            users.push(`distribution '${d.name}'`);
          }
        }
        pageToken = out.nextPageToken;
        if (!pageToken) {
          break;
        }
      }
    } catch (e) {
      log('warn', 'could not list distributions to name the certificate\'s users', { error: errorName(e) });
    }
  }
  try {
    const out = await lightsail.call('lightsail:GetContainerServices', ({ sdk, client }) => client.send(new sdk.GetContainerServicesCommand({})), { region });
    for (const s of out.containerServices ?? []) {
      if (s.publicDomainNames && Object.prototype.hasOwnProperty.call(s.publicDomainNames, certificateName) && s.containerServiceName) {
        users.push(`container service '${s.containerServiceName}'`);
      }
    }
  } catch (e) {
    log('warn', 'could not list container services to name the certificate\'s users', { error: errorName(e) });
  }
  return users;
}

/** The region in a Lightsail ARN (`arn:aws:lightsail:<region>:<account>:Certificate/<id>`), if it is one. */
export function regionOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && parts[2] === 'lightsail' && parts[3] ? parts[3] : undefined;
}
