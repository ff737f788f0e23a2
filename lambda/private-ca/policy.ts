/** `Custom::PrivateCaPolicy`: the CA's resource policy. */
import { checkedCaArn, ERRORS, send } from './pca';
import {
  caArnProblem,
  POLICY_PHYSICAL_ID_SUFFIX,
  policyProblem,
  PrivateCaPolicyResourceProperties,
} from '../../src/contract/private-ca';
import type { OnEventRequest, OnEventResponse } from '../shared/cfn';
import { errorName, InputError, translateError } from '../shared/errors';
import type { ResourceLifecycle } from '../shared/handler';
import { log } from '../shared/log';

type PolicyEvent = OnEventRequest<PrivateCaPolicyResourceProperties>;

interface PolicyDesired {
  readonly arn: string;
  readonly policy: string;
  readonly retain: boolean;
}

function parsePolicyProps(props: PrivateCaPolicyResourceProperties): PolicyDesired {
  const arn = checkedCaArn(props.CertificateAuthorityArn);
  const policy = typeof props.Policy === 'string' ? props.Policy : JSON.stringify(props.Policy);
  const problem = policyProblem(policy);
  if (problem) {
    throw new InputError('addToResourcePolicy', problem);
  }
  return { arn, policy, retain: props.RemovalPolicy === 'retain' };
}

/** The same document, whatever its whitespace. */
function samePolicy(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

export const privateCaPolicy: ResourceLifecycle<PrivateCaPolicyResourceProperties> = {
  create: async (event) => {
    const desired = parsePolicyProps(event.ResourceProperties);
    await putPolicy(desired);
    return { PhysicalResourceId: desired.arn + POLICY_PHYSICAL_ID_SUFFIX };
  },
  update: async (event) => {
    const desired = parsePolicyProps(event.ResourceProperties);
    const physicalId = desired.arn + POLICY_PHYSICAL_ID_SUFFIX;
    const old = event.OldResourceProperties;
    const moved = physicalId !== event.PhysicalResourceId;
    // PutPolicy replaces the whole policy: skipping it when nothing changed keeps updates write-free.
    if (moved || old === undefined || !samePolicy(String(old.Policy), desired.policy)) {
      await putPolicy(desired);
    } else {
      log('info', 'the resource policy is unchanged', { arn: desired.arn });
    }
    return { PhysicalResourceId: physicalId };
  },
  delete: deletePolicy,
};

async function putPolicy(desired: PolicyDesired): Promise<void> {
  try {
    await send('PutPolicy', ({ sdk, client }) => client.send(new sdk.PutPolicyCommand({ ResourceArn: desired.arn, Policy: desired.policy })));
  } catch (e) {
    throw translateError(e, ERRORS, `addToResourcePolicy (PutPolicy on ${desired.arn})`);
  }
  log('info', 'put the resource policy', { arn: desired.arn, length: desired.policy.length });
}

async function deletePolicy(event: PolicyEvent): Promise<OnEventResponse> {
  const physicalId = event.PhysicalResourceId ?? '';
  const arn = physicalId.endsWith(POLICY_PHYSICAL_ID_SUFFIX) ? physicalId.slice(0, -POLICY_PHYSICAL_ID_SUFFIX.length) : '';
  if (caArnProblem(arn)) {
    log('info', 'nothing to delete: the physical ID is not a CA policy', { physicalResourceId: physicalId });
    return { PhysicalResourceId: physicalId };
  }
  if (event.ResourceProperties.RemovalPolicy === 'retain') {
    log('info', 'removal policy is retain: the resource policy is kept', { arn });
    return { PhysicalResourceId: physicalId };
  }
  try {
    await send('DeletePolicy', ({ sdk, client }) => client.send(new sdk.DeletePolicyCommand({ ResourceArn: arn })));
    log('info', 'deleted the resource policy', { arn });
  } catch (e) {
    const name = errorName(e);
    // A CA that is gone or deleted has no policy left to remove.
    if (name === 'ResourceNotFoundException' || name === 'InvalidStateException') {
      log('info', 'no resource policy to delete', { arn, error: name });
    } else {
      throw translateError(e, ERRORS, `addToResourcePolicy (DeletePolicy on ${arn})`);
    }
  }
  return { PhysicalResourceId: physicalId };
}
