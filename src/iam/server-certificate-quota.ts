import { Annotations, Stack, Token } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/** Warning id users acknowledge with `Annotations.of(scope).acknowledgeWarning(...)`. */
export const SERVER_CERTIFICATE_QUOTA_WARNING = 'cdk-certificates:serverCertificateQuota';

/**
 * IAM's default quota of server certificates per AWS account ("Server certificates stored in an AWS
 * account", IAM and AWS STS quotas; adjustable, automatic approval up to 1000). IAM is global: the
 * quota is per account, whatever the region.
 */
export const IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA = 20;

/** The group env-agnostic stacks count in: whatever account the CLI deploys them to. */
const ENV_AGNOSTIC = 'env-agnostic';

interface AccountCount {
  count: number;
  readonly stacks: Set<string>;
  warned: boolean;
}

// Per construct tree (the App): IAM certificates declared so far, by account.
const counts = new WeakMap<IConstruct, Map<string, AccountCount>>();

/**
 * Counts one `ServerCertificate` against IAM's default quota, across every stack of the app in the
 * same account (any region; env-agnostic stacks count together), and warns once per app and
 * account, on the first certificate over the quota. Counting as certificates are declared (not at
 * validation) also covers stacks in nested stages, whose assemblies are written before the app's.
 */
export function countServerCertificate(certificate: Construct): void {
  const root = certificate.node.root;
  let byAccount = counts.get(root);
  if (!byAccount) {
    byAccount = new Map();
    counts.set(root, byAccount);
  }
  const stack = Stack.of(certificate);
  const account = Token.isUnresolved(stack.account) ? ENV_AGNOSTIC : stack.account;
  const entry = byAccount.get(account) ?? { count: 0, stacks: new Set<string>(), warned: false };
  byAccount.set(account, entry);
  entry.count += 1;
  entry.stacks.add(stack.node.path);
  if (entry.count <= IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA || entry.warned) {
    return;
  }
  entry.warned = true;
  const where = account === ENV_AGNOSTIC ? 'the env-agnostic stacks (one account, whichever the CLI deploys to)' : `account ${account}`;
  Annotations.of(certificate).addWarningV2(SERVER_CERTIFICATE_QUOTA_WARNING,
    `this app declares more than ${IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA} IAM server certificates for ${where} `
    + `(this is number ${entry.count}; stacks ${[...entry.stacks].join(', ')}). IAM's default quota is `
    + `${IAM_SERVER_CERTIFICATE_DEFAULT_QUOTA} server certificates per account, across all regions, and the account's existing `
    + 'certificates count too; a replacement uploads the new certificate before the old one is deleted, so it needs a free slot. '
    + 'Past the quota, UploadServerCertificate fails with LimitExceeded. Ask for a higher quota in Service Quotas '
    + '(AWS Identity and Access Management, server certificates per account) or keep certificates in ACM where the service '
    + `supports it, then acknowledge this warning: Annotations.of(scope).acknowledgeWarning('${SERVER_CERTIFICATE_QUOTA_WARNING}')`);
}
