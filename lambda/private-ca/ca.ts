/** `Custom::PrivateCa`: records the CA, and disables and deletes it on Delete. */
import { checkedCaArn, ERRORS, send } from './pca';
import {
  caArnProblem,
  permanentDeletionProblem,
  PrivateCaResourceAttributes,
  PrivateCaResourceProperties,
} from '../../src/contract/private-ca';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { errorName, InputError, translateError } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';

type CaEvent = OnEventRequest<PrivateCaResourceProperties>;

interface CaDesired {
  readonly arn: string;
  readonly windowDays: number;
  readonly retain: boolean;
}

function parseCaProps(props: PrivateCaResourceProperties): CaDesired {
  const arn = checkedCaArn(props.CertificateAuthorityArn);
  const windowDays = Number(props.PermanentDeletionTimeInDays);
  const windowProblem = permanentDeletionProblem(windowDays);
  if (windowProblem) {
    throw new InputError('permanentDeletionTimeInDays', windowProblem);
  }
  if (props.RemovalPolicy !== 'retain' && props.RemovalPolicy !== 'destroy') {
    throw new InputError('removalPolicy', `must be 'retain' or 'destroy', got ${JSON.stringify(props.RemovalPolicy)}`);
  }
  return { arn, windowDays, retain: props.RemovalPolicy === 'retain' };
}

function caResponse(arn: string): OnEventResponse {
  const data: PrivateCaResourceAttributes = { Arn: arn };
  return { PhysicalResourceId: arn, Data: data };
}

/**
 * Create and Update only record the CA (no API call, so they cannot fail after the CA exists and
 * leave it orphaned); a new CA ARN is a new physical ID, so CloudFormation deletes the old CA.
 */
export const privateCa: ResourceLifecycle<PrivateCaResourceProperties> = {
  create: async (event) => caResponse(parseCaProps(event.ResourceProperties).arn),
  update: async (event) => {
    const desired = parseCaProps(event.ResourceProperties);
    if (event.PhysicalResourceId !== desired.arn) {
      log('info', 'the CA was replaced; CloudFormation will delete the old one', { newArn: desired.arn, oldArn: event.PhysicalResourceId });
    }
    return caResponse(desired.arn);
  },
  delete: deleteCa,
};

async function deleteCa(event: CaEvent): Promise<OnEventResponse> {
  const arn = event.PhysicalResourceId ?? '';
  if (caArnProblem(arn)) {
    log('info', 'nothing to delete: the physical ID is not a CA ARN', { physicalResourceId: arn });
    return { PhysicalResourceId: arn };
  }
  const props = event.ResourceProperties;
  if (props.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: the CA is kept', { arn });
    return { PhysicalResourceId: arn };
  }
  const windowDays = permanentDeletionProblem(Number(props.PermanentDeletionTimeInDays)) === undefined
    ? Number(props.PermanentDeletionTimeInDays)
    : undefined; // Never block a delete on a bad window: the service default (30 days) applies.
  await disableAndDelete(arn, windowDays);
  return { PhysicalResourceId: arn };
}

/** The CA's status, or undefined when it is gone for good. */
async function caStatus(arn: string): Promise<string | undefined> {
  try {
    const out = await send('DescribeCertificateAuthority', ({ sdk, client }) => client.send(new sdk.DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: arn })));
    return out.CertificateAuthority?.Status;
  } catch (e) {
    if (errorName(e) === 'ResourceNotFoundException') {
      return undefined;
    }
    throw translateError(e, ERRORS, `removalPolicy (DescribeCertificateAuthority ${arn})`);
  }
}

/**
 * Disables an ACTIVE CA, then deletes it with the restoration window. A CA already DELETED or gone
 * is success (delete twice, or deleted by hand). Issued certificates stay valid until they expire,
 * but the CA stops issuing and stops refreshing its CRL once the window ends.
 */
async function disableAndDelete(arn: string, windowDays: number | undefined): Promise<void> {
  const status = await caStatus(arn);
  if (status === undefined || status === 'DELETED') {
    log('info', 'the CA is already deleted', { arn, status: status ?? 'gone' });
    return;
  }
  if (status === 'ACTIVE') {
    try {
      await send('UpdateCertificateAuthority', ({ sdk, client }) => client.send(new sdk.UpdateCertificateAuthorityCommand({ CertificateAuthorityArn: arn, Status: 'DISABLED' })));
      log('info', 'disabled the CA before deleting it', { arn });
    } catch (e) {
      // It may have changed state meanwhile (deleted by hand, or disabled): look again.
      const now = await caStatus(arn);
      if (now === undefined || now === 'DELETED') {
        return;
      }
      if (now === 'ACTIVE') {
        throw translateError(e, ERRORS, `removalPolicy (UpdateCertificateAuthority ${arn} to DISABLED)`);
      }
    }
  }
  try {
    await send('DeleteCertificateAuthority', ({ sdk, client }) => client.send(new sdk.DeleteCertificateAuthorityCommand({
      CertificateAuthorityArn: arn,
      PermanentDeletionTimeInDays: windowDays,
    })));
  } catch (e) {
    const name = errorName(e);
    if (name === 'ResourceNotFoundException') {
      return;
    }
    if (name === 'InvalidStateException' && (await caStatus(arn) ?? 'DELETED') === 'DELETED') {
      return;
    }
    throw translateError(e, ERRORS, `permanentDeletionTimeInDays (DeleteCertificateAuthority ${arn})`);
  }
  log('info', 'deleted the CA; it can be restored with RestoreCertificateAuthority until its restoration window ends', {
    arn,
    permanentDeletionTimeInDays: windowDays ?? 'service default',
  });
}
