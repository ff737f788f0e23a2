/**
 * The private-ca handler: `Custom::PrivateCa` (./ca), `Custom::PrivateCaPolicy` (./policy),
 * `Custom::PrivateCaExpiryNotices` (./expiry-notices)
 * and `Custom::PrivateCaTrustBundle` (./trust-bundle), told apart by ResourceType.
 */
import { privateCa } from './ca';
import { privateCaExpiryNotices } from './expiry-notices';
import { privateCaPolicy } from './policy';
import { privateCaTrustBundle } from './trust-bundle';
import {
  PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE,
  PRIVATE_CA_POLICY_RESOURCE_TYPE,
  PRIVATE_CA_RESOURCE_TYPE,
  PRIVATE_CA_TRUST_BUNDLE_RESOURCE_TYPE,
  PrivateCaExpiryNoticesResourceProperties,
  PrivateCaPolicyResourceProperties,
  PrivateCaResourceProperties,
  PrivateCaTrustBundleResourceProperties,
} from '../../src/contract/private-ca';
import { customResourceHandler } from '../shared/handler';

const handler = customResourceHandler<
PrivateCaResourceProperties | PrivateCaPolicyResourceProperties | PrivateCaExpiryNoticesResourceProperties | PrivateCaTrustBundleResourceProperties
>({
  name: 'private-ca',
  resources: {
    [PRIVATE_CA_RESOURCE_TYPE]: privateCa,
    [PRIVATE_CA_POLICY_RESOURCE_TYPE]: privateCaPolicy,
    [PRIVATE_CA_EXPIRY_NOTICES_RESOURCE_TYPE]: privateCaExpiryNotices,
    [PRIVATE_CA_TRUST_BUNDLE_RESOURCE_TYPE]: privateCaTrustBundle,
  },
});

/** The Provider framework's onEvent entry point. */
export const onEvent = handler.onEvent;

// The knobs the test tiers turn on the shipped bundle (no real backoff waits), as on the sources.
export { settings } from './pca';
export { retryConfig } from '../shared/retry';
export { clock } from './trust-bundle';
