/**
 * What IssuedCertificate and CsrIssuedCertificate share: the checks of their inputs, the validity
 * they request, the wait for the CA. Internal: not exported from the package.
 */
import {
  Duration,
  Expiration,
  Reference,
  Stack,
  Token,
  Tokenization,
} from 'aws-cdk-lib';
import { Dependable, IConstruct } from 'constructs';
import { IIssuingCertificateAuthority } from './issued-certificate-props';
import { caArnAccount, crossAccountTemplateProblem, templateNameOf } from '../contract/private-ca';
import { joinProblems } from '../contract/problems';
import { validityDaysProblem } from '../contract/validity';
import { CertificateInputError } from '../private/errors';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Resources per shared statement. CDK splits a role's policy into managed policies (6,000
 * characters each, estimating 150 per ARN token) statement by statement, so a statement must stay
 * well under that: ten ARNs keep hundreds of certificates within IAM's limits.
 */
export const RESOURCES_PER_STATEMENT = 10;

/**
 * Makes `resource` wait for what the CA needs deployed before it issues, unless the CA's ARN, which
 * the resource references, already carries that dependency (a PrivateCa's ARN is its activation's
 * Ref): a DependsOn that repeats a Ref only clutters the template (cfn-lint W3005).
 */
export function dependOnIssuance(resource: IConstruct, ca: IIssuingCertificateAuthority): void {
  const ready = ca.readyForIssuance;
  if (!ready) {
    return;
  }
  const referenced = new Set(Tokenization.reverseString(ca.certificateAuthorityArn).tokens
    .filter((token): token is Reference => token instanceof Reference)
    .map(reference => reference.target));
  const roots = Dependable.of(ready).dependencyRoots;
  if (roots.length > 0 && roots.every(root => referenced.has(root))) {
    return;
  }
  resource.node.addDependency(ready);
}

/** Counts the items of a SAN list after checking each known one; a duplicate is an error. */
export function checkList(
  scope: IConstruct,
  property: string,
  list: string[] | undefined,
  problemOf: (value: string) => string | undefined,
  caseInsensitive: boolean,
): number {
  if (list === undefined) {
    return 0;
  }
  if (Token.isUnresolved(list)) {
    return 1;
  }
  // Every problem of the list in one error (DESIGN.md, "Bad input").
  const seen = new Set<string>();
  const problems: Array<string | undefined> = [];
  for (const item of list) {
    if (Token.isUnresolved(item)) {
      continue;
    }
    problems.push(problemOf(item));
    const key = caseInsensitive ? item.toLowerCase() : item;
    if (seen.has(key) && !problems.includes(`lists '${item}' twice; list each name once`)) {
      problems.push(`lists '${item}' twice; list each name once`);
    }
    seen.add(key);
  }
  const problem = joinProblems(problems);
  if (problem) {
    throw new CertificateInputError(property, problem, scope);
  }
  return list.length;
}

export interface Validity {
  readonly type: 'DAYS' | 'ABSOLUTE';
  readonly value: number;
}

/** The validity to request, checked against the CA's own validity when that is known. */
export function validityOf(
  scope: IConstruct,
  props: { readonly validity?: Duration; readonly validityEnd?: Expiration },
  ca: IIssuingCertificateAuthority,
): Validity {
  if (props.validity !== undefined && props.validityEnd !== undefined) {
    throw new CertificateInputError('validity', 'give either validity (a duration) or validityEnd (a date), not both', scope);
  }
  const caValidity = ca.certificateValidity;
  const caDays = caValidity === undefined || caValidity.isUnresolved() ? undefined : caValidity.toDays({ integral: false });
  if (props.validityEnd !== undefined) {
    const end = props.validityEnd.date.getTime();
    if (end <= Date.now()) {
      throw new CertificateInputError('validityEnd', `${props.validityEnd.date.toISOString()} is in the past; choose a future date`, scope);
    }
    // The CA is created at the earliest now, so it cannot outlast now + its validity.
    if (caDays !== undefined && end > Date.now() + caDays * DAY_MS) {
      throw new CertificateInputError('validityEnd',
        `${props.validityEnd.date.toISOString()} is after the CA's own certificate expires (${caDays} days from its creation); a certificate cannot outlive its issuer`, scope);
    }
    return { type: 'ABSOLUTE', value: props.validityEnd.toEpoch() };
  }
  const validity = props.validity ?? Duration.days(365);
  if (validity.isUnresolved()) {
    throw new CertificateInputError('validity', 'must be known at synth (not a token)', scope);
  }
  const days = validity.toDays({ integral: false });
  const problem = validityDaysProblem(days, validity.toHumanString(), 1);
  if (problem) {
    throw new CertificateInputError('validity', problem, scope);
  }
  if (caDays !== undefined && days >= caDays) {
    throw new CertificateInputError('validity',
      `${days} days is not shorter than the CA's own validity (${caDays} days); a certificate cannot outlive its issuer: `
      + `${props.validity === undefined ? 'the default is 365 days, so set' : 'set'} a shorter validity`, scope);
  }
  return { type: 'DAYS', value: days };
}

/**
 * Issuing from a CA of another account (an imported CA whose ARN names an account other than the
 * stack's) works only with the templates ACM Private CA allows across accounts. Skipped when the
 * CA ARN, the stack's account or the template name is a token.
 */
export function checkCrossAccountTemplate(scope: IConstruct, ca: IIssuingCertificateAuthority, templateArn: string): void {
  const caArn = ca.certificateAuthorityArn;
  const account = Stack.of(scope).account;
  if (Token.isUnresolved(caArn) || Token.isUnresolved(account)) {
    return;
  }
  const caAccount = caArnAccount(caArn);
  const template = templateNameOf(templateArn);
  if (caAccount === undefined || caAccount === account || template === undefined) {
    return;
  }
  const problem = crossAccountTemplateProblem(template, `the CA is in account ${caAccount}, this stack in ${account}`);
  if (problem) {
    throw new CertificateInputError('template', problem, scope);
  }
}
