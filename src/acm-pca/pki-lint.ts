/**
 * The PKI linter: synth-time warnings about a PrivateCa hierarchy that is legal, but costly or
 * likely wrong. Internal: not exported from the package.
 *
 * Every warning is acknowledgeable (`Annotations.of(scope).acknowledgeWarning(id, reason)`), like
 * `cdk-certificates:certificateExpiresSoon` and `cdk-certificates:serverCertificateQuota`. The
 * checks run when the app is synthesized (a validation on each PrivateCa), after every construct
 * exists, so they see certificates declared after the CA and in other stacks. aws-cdk-lib honours
 * an acknowledgement made before synth only on the warned construct's ancestors, so each warning is
 * added to a resource inside the construct it is about (a CA's `Resource`, a certificate's
 * `Resource`): acknowledging on that construct, or on its stack, silences it.
 */
import { Annotations, CfnResource, Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { PrivateCa } from './private-ca';
import { CaUsageMode } from './private-ca-options';
import { templateNameOf } from '../contract/private-ca';

/** The monthly cost of the CAs a stack declares (one warning per stack). */
export const CA_MONTHLY_COST_WARNING = 'cdk-certificates:privateCaMonthlyCost';
/** An `acm.PrivateCertificate` asked of a CA in short-lived certificate mode. */
export const SHORT_LIVED_CA_WITH_ACM_WARNING = 'cdk-certificates:shortLivedCaWithAcm';
/** An `acm.PrivateCertificate` whose key family differs from the family of its CA's key. */
export const KEY_FAMILY_MISMATCH_WARNING = 'cdk-certificates:keyFamilyMismatch';
/** A root CA that issues end-entity certificates directly. */
export const ROOT_ISSUES_END_ENTITY_WARNING = 'cdk-certificates:rootIssuesEndEntity';

/**
 * Monthly operation charge of one CA, in US dollars, from AWS Private CA pricing
 * (https://aws.amazon.com/private-ca/pricing/, "Private certificate authority operation": "$400 per
 * private CA per month for general-purpose mode", "$50 per private CA per month for short-lived
 * certificate mode", pro-rated for partial months; the same rates in every commercial Region of the
 * AWS price list). Certificates issued and OCSP are charged on top.
 */
export const GENERAL_PURPOSE_CA_MONTHLY_USD = 400;
/** See GENERAL_PURPOSE_CA_MONTHLY_USD. */
export const SHORT_LIVED_CA_MONTHLY_USD = 50;

const ACM_CERTIFICATE = 'AWS::CertificateManager::Certificate';
const PCA_CERTIFICATE = 'AWS::ACMPCA::Certificate';
/** What ACM requests when `keyAlgorithm` is not given (RequestCertificate's default). */
const ACM_DEFAULT_KEY_ALGORITHM = 'RSA_2048';
/** What IssueCertificate uses when no template is given. */
const DEFAULT_TEMPLATE = 'EndEntityCertificate/V1';

/** Every PrivateCa declared, so that a CA finds the other CAs of its stack. */
const declared = new WeakSet<IConstruct>();

/** Registers the checks of one PrivateCa; they run when the app is synthesized. */
export function lintPkiAtSynth(ca: PrivateCa): void {
  declared.add(ca);
  ca.node.addValidation({
    validate: () => {
      lint(ca);
      return [];
    },
  });
}

function lint(ca: PrivateCa): void {
  warnMonthlyCost(ca);
  const issued = certificatesFrom(ca);
  for (const certificate of issued.filter(c => c.acm)) {
    warnShortLivedWithAcm(ca, certificate);
    warnKeyFamily(ca, certificate);
  }
  warnRootIssuing(ca, issued);
}

// --- 1. cost -------------------------------------------------------------------------------------

/**
 * Once per stack, on its first PrivateCa: the monthly charge of the stack's PrivateCa constructs
 * (general-purpose $400, short-lived $50 each). Imported CAs are not counted: the stack does not
 * create them.
 */
function warnMonthlyCost(ca: PrivateCa): void {
  const stack = Stack.of(ca);
  const cas = stack.node.findAll().filter((c): c is PrivateCa => declared.has(c) && Stack.of(c) === stack);
  if (cas[0] !== ca) {
    return;
  }
  const shortLived = cas.filter(c => c.usageMode === CaUsageMode.SHORT_LIVED_CERTIFICATE).length;
  const generalPurpose = cas.length - shortLived;
  const total = generalPurpose * GENERAL_PURPOSE_CA_MONTHLY_USD + shortLived * SHORT_LIVED_CA_MONTHLY_USD;
  const each = (count: number) => (count === 1 ? '' : ' each');
  const parts = [
    generalPurpose > 0 ? `${generalPurpose} general-purpose (${usd(GENERAL_PURPOSE_CA_MONTHLY_USD)} a month${each(generalPurpose)})` : undefined,
    shortLived > 0 ? `${shortLived} in short-lived certificate mode (${usd(SHORT_LIVED_CA_MONTHLY_USD)} a month${each(shortLived)})` : undefined,
  ].filter(p => p !== undefined);
  const advice = generalPurpose > 0
    ? 'To pay less, share one hierarchy between stacks and accounts instead of one per stack (PrivateCa.fromCertificateAuthorityArn '
      + 'in the others, or a resource policy), and give an issuing CA whose certificates live 7 days or less '
      + 'usageMode: CaUsageMode.SHORT_LIVED_CERTIFICATE. '
    : 'To pay less, share the CAs between stacks and accounts instead of one per stack (PrivateCa.fromCertificateAuthorityArn in the others). ';
  Annotations.of(ca.cfnCertificateAuthority).addWarningV2(CA_MONTHLY_COST_WARNING,
    `stack ${stack.node.path} declares ${cas.length} ACM Private CA certificate ${cas.length === 1 ? 'authority' : 'authorities'}: `
    + `${parts.join(' and ')}, about ${usd(total)} a month at AWS Private CA's list prices (https://aws.amazon.com/private-ca/pricing/). `
    + 'A CA is charged from its creation until it is deleted, active or disabled, whether it issues or not, and issued certificates '
    + 'are charged on top; a retained CA (removalPolicy RETAIN, the default) keeps costing after it leaves the stack until you delete it. '
    + advice
    + `If the cost is planned, acknowledge it: Annotations.of(stack).acknowledgeWarning('${CA_MONTHLY_COST_WARNING}', 'budgeted')`);
}

function usd(amount: number): string {
  return `$${amount.toLocaleString('en-US')}`;
}

// --- the certificates a CA is asked for ----------------------------------------------------------

/** A resource of the app that has a certificate issued by the CA. */
interface IssuedFrom {
  readonly resource: CfnResource;
  /** An ACM certificate (`acm.PrivateCertificate` or its L1): ACM requests it, end-entity. */
  readonly acm: boolean;
  /** The template name (`EndEntityCertificate/V1`); undefined when only known at deploy. */
  readonly template?: string;
  /** ACM's key algorithm name, for an ACM certificate; undefined when only known at deploy. */
  readonly keyAlgorithm?: string;
}

/**
 * Every resource of the app that has `ca` issue a certificate: an ACM certificate
 * (`AWS::CertificateManager::Certificate` with the CA's ARN), a native `AWS::ACMPCA::Certificate`
 * (`CsrIssuedCertificate`, a subordinate's CA certificate), and this library's custom resources that
 * take `CertificateAuthorityArn` with a `TemplateArn` (`IssuedCertificate`, `AlibabaKmsCertificate`).
 * A resource names the CA when its ARN property holds the CA's ARN, or a reference to any resource
 * of the CA (its activation, the CA resource's `Arn`), in any stack.
 */
function certificatesFrom(ca: PrivateCa): IssuedFrom[] {
  const found: IssuedFrom[] = [];
  for (const construct of ca.node.root.node.findAll()) {
    if (!CfnResource.isCfnResource(construct)) {
      continue;
    }
    const type = construct.cfnResourceType;
    if (type === ACM_CERTIFICATE) {
      const l1 = construct as unknown as { certificateAuthorityArn?: unknown; keyAlgorithm?: unknown };
      if (refersTo(l1.certificateAuthorityArn, ca)) {
        const key = l1.keyAlgorithm ?? ACM_DEFAULT_KEY_ALGORITHM;
        found.push({ resource: construct, acm: true, template: DEFAULT_TEMPLATE, keyAlgorithm: known(key) });
      }
    } else if (type === PCA_CERTIFICATE) {
      const l1 = construct as unknown as { certificateAuthorityArn?: unknown; templateArn?: unknown };
      if (refersTo(l1.certificateAuthorityArn, ca)) {
        found.push({ resource: construct, acm: false, template: templateOf(l1.templateArn ?? DEFAULT_TEMPLATE) });
      }
    } else if (type.startsWith('Custom::')) {
      // This library's handler resources keep their properties as given (CfnResource's own field).
      const properties = (construct as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties;
      if (properties && properties.TemplateArn !== undefined && refersTo(properties.CertificateAuthorityArn, ca)) {
        found.push({ resource: construct, acm: false, template: templateOf(properties.TemplateArn) });
      }
    }
  }
  return found;
}

/** Whether an ARN property (a string, or an aws-cdk-lib reference object) names `ca`. */
function refersTo(value: unknown, ca: PrivateCa): boolean {
  const arn = typeof value === 'string'
    ? value
    : (value as { certificateAuthorityRef?: { certificateAuthorityArn?: unknown } } | undefined)?.certificateAuthorityRef?.certificateAuthorityArn;
  if (typeof arn !== 'string') {
    return false;
  }
  if (arn === ca.certificateAuthorityArn) {
    return true;
  }
  if (!Token.isUnresolved(arn)) {
    return false;
  }
  return Tokenization.reverseString(arn).tokens.some(token =>
    token instanceof Reference && (token.target === ca || token.target.node.scopes.includes(ca)));
}

function templateOf(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  return value === DEFAULT_TEMPLATE ? value : templateNameOf(value);
}

function known(value: unknown): string | undefined {
  return typeof value === 'string' && !Token.isUnresolved(value) ? value : undefined;
}

/** The construct a user declared: the L2 around an L1 named `Resource`, else the resource itself. */
function ownerOf(resource: CfnResource): IConstruct {
  const scope = resource.node.scope;
  return resource.node.id === 'Resource' && scope ? scope : resource;
}

function isCaTemplate(template: string): boolean {
  return template.startsWith('RootCACertificate') || template.startsWith('SubordinateCACertificate');
}

// --- 2. short-lived CA and ACM -------------------------------------------------------------------

/**
 * AWS Private CA user guide, "Understand AWS Private CA CA modes"
 * (https://docs.aws.amazon.com/privateca/latest/userguide/short-lived-certificates.html): "AWS
 * Certificate Manager cannot issue certificates signed by a private CA with short-lived mode."
 */
function warnShortLivedWithAcm(ca: PrivateCa, certificate: IssuedFrom): void {
  if (ca.usageMode !== CaUsageMode.SHORT_LIVED_CERTIFICATE) {
    return;
  }
  Annotations.of(certificate.resource).addWarningV2(SHORT_LIVED_CA_WITH_ACM_WARNING,
    `the ACM certificate ${ownerOf(certificate.resource).node.path} is to be issued by ${ca.node.path}, a CA in short-lived certificate mode `
    + '(usageMode SHORT_LIVED_CERTIFICATE), and ACM cannot issue certificates signed by a short-lived-mode CA '
    + '(https://docs.aws.amazon.com/privateca/latest/userguide/short-lived-certificates.html), so the certificate fails at deploy. '
    + 'Give acm.PrivateCertificate a general-purpose CA, or keep this CA and issue 7-day certificates from it with '
    + `issueCertificate() or issueCertificateFromCsr(). Acknowledge: Annotations.of(certificate).acknowledgeWarning('${SHORT_LIVED_CA_WITH_ACM_WARNING}', 'reason')`);
}

// --- 3. key family -------------------------------------------------------------------------------

/**
 * An ACM private certificate's key must be of the family of its CA's key. ACM API Reference,
 * RequestCertificate, KeyAlgorithm
 * (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html): "When you
 * request a private PKI certificate signed by a CA from AWS Private CA, the specified signing
 * algorithm family (RSA or ECDSA) must match the algorithm family of the CA's secret key"; ACM
 * requests only RSA_2048, EC_prime256v1 and EC_secp384r1, so a CA with an SM2 or ML-DSA key matches
 * none. (For certificates issued through ACM Private CA itself there is no such rule: the CA signs
 * with an algorithm of its own key's family, whatever the key in the CSR; the library already
 * refuses a CA signing algorithm that does not fit the CA's key.)
 */
function warnKeyFamily(ca: PrivateCa, certificate: IssuedFrom): void {
  const key = certificate.keyAlgorithm;
  if (key === undefined) {
    return;
  }
  const family = key.startsWith('RSA_') ? 'RSA' : key.startsWith('EC_') ? 'EC' : undefined;
  const caFamily = ca.keyAlgorithm._family;
  if (family === undefined || family === caFamily) {
    return;
  }
  const fix = caFamily === 'RSA'
    ? 'request an RSA key (keyAlgorithm: acm.KeyAlgorithm.RSA_2048, the default)'
    : caFamily === 'EC'
      ? `request an ECDSA key (keyAlgorithm: acm.KeyAlgorithm.${ca.keyAlgorithm.value === 'EC_secp384r1' ? 'EC_SECP384R1' : 'EC_PRIME256V1'})`
      : 'ACM requests only RSA and ECDSA keys, so issue from this CA with issueCertificate() or issueCertificateFromCsr()';
  Annotations.of(certificate.resource).addWarningV2(KEY_FAMILY_MISMATCH_WARNING,
    `the ACM certificate ${ownerOf(certificate.resource).node.path} requests a ${key} key from ${ca.node.path}, whose own key is `
    + `${ca.keyAlgorithm.value} (it signs with ${ca.signingAlgorithm.value}). ACM documents that a private certificate's key algorithm `
    + 'family (RSA or ECDSA) must match the family of the CA\'s key (ACM RequestCertificate, KeyAlgorithm: '
    + 'https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html), so this request is outside what ACM supports '
    + 'and can fail at deploy or on renewal. '
    + `Fix: ${fix}, or issue from a CA whose key is of the ${family === 'RSA' ? 'RSA' : 'ECDSA'} family. `
    + `Acknowledge: Annotations.of(certificate).acknowledgeWarning('${KEY_FAMILY_MISMATCH_WARNING}', 'reason')`);
}

// --- 4. a root issuing end-entity certificates ---------------------------------------------------

/**
 * AWS Private CA user guide, best practices, "Minimize use of the root CA if possible"
 * (https://docs.aws.amazon.com/privateca/latest/userguide/ca-best-practices.html): "A root CA should
 * in general only be used to issue certificates for intermediate CAs." Warned for an enabled root CA
 * that the app has issue a certificate with a template other than a CA template (RootCACertificate*,
 * SubordinateCACertificate*): an ACM certificate, an issued certificate, a certificate from a CSR.
 * The ACM permission (`allowAcmRenewals`, on by default) alone is not warned: it issues nothing
 * until an ACM certificate asks for one, and that certificate is then warned.
 */
function warnRootIssuing(ca: PrivateCa, issued: IssuedFrom[]): void {
  if (!ca.isRoot || ca.status !== 'ACTIVE') {
    return;
  }
  const endEntity = issued.filter(c => c.template !== undefined && !isCaTemplate(c.template));
  if (endEntity.length === 0) {
    return;
  }
  const list = endEntity.map(c => `${ownerOf(c.resource).node.path} (${c.acm ? 'ACM' : c.template})`).join(', ');
  Annotations.of(ca.cfnCertificateAuthority).addWarningV2(ROOT_ISSUES_END_ENTITY_WARNING,
    `the root CA ${ca.node.path} issues end-entity certificates directly: ${list}. AWS recommends using a root CA only to sign `
    + 'subordinate CAs (https://docs.aws.amazon.com/privateca/latest/userguide/ca-best-practices.html): a root that signs every day '
    + 'keeps the key of the whole hierarchy in daily use, and it cannot be disabled (AWS Config\'s acm-pca-root-ca-disabled) or '
    + 'rotated without replacing every certificate and trust store. Issue them from a subordinate instead: '
    + 'new PrivateCa(this, \'Issuing\', { parent: root, subject: { commonName: \'Issuing CA\' } }) and issuing.issueCertificate(...) '
    + '(or certificateAuthority: issuing), then set allowAcmRenewals: false on the root. If a one-tier PKI is intended, acknowledge: '
    + `Annotations.of(root).acknowledgeWarning('${ROOT_ISSUES_END_ENTITY_WARNING}', 'one-tier PKI')`);
}
