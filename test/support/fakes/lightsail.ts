import { createHash, randomUUID } from 'node:crypto';
import {
  AttachCertificateToDistributionCommand,
  CreateCertificateCommand,
  DeleteCertificateCommand,
  DetachCertificateFromDistributionCommand,
  DomainValidationRecord,
  GetCertificatesCommand,
  GetContainerServicesCommand,
  GetDistributionsCommand,
  InvalidInputException,
  LightsailClient,
  NotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-lightsail';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';

export type FakeStatus = 'PENDING_VALIDATION' | 'ISSUED' | 'FAILED' | 'VALIDATION_TIMED_OUT' | 'REVOKED' | 'EXPIRED' | 'INACTIVE';

export interface FakeCertificate {
  readonly arn: string;
  readonly name: string;
  readonly region: string;
  readonly domainName: string;
  /** As Lightsail reports them: the domain name first, then the requested alternative names. */
  readonly subjectAlternativeNames: string[];
  status: FakeStatus;
  requestFailureReason?: string;
  /** Detailed GetCertificates calls left until (and including) the one that first shows the records. */
  recordsHiddenFor: number;
  readonly records: DomainValidationRecord[];
  readonly tags: Map<string, string>;
}

export interface FakeDistribution {
  readonly name: string;
  certificateName?: string;
}

export interface FakeContainerService {
  readonly name: string;
  readonly region: string;
  /** Certificate name -> domains, as UpdateContainerService's publicDomainNames. */
  readonly publicDomainNames: Record<string, string[]>;
}

export interface FakeCall {
  readonly operation: string;
  readonly region: string;
  readonly input: Record<string, unknown>;
}

const WRITES = new Set([
  'CreateCertificate',
  'DeleteCertificate',
  'TagResource',
  'UntagResource',
  'AttachCertificateToDistribution',
  'DetachCertificateFromDistribution',
]);

const DISTRIBUTION_REGION = 'us-east-1';

function invalid(message: string): InvalidInputException {
  return new InvalidInputException({ message, $metadata: {} });
}

function notFound(message: string): NotFoundException {
  return new NotFoundException({ message, $metadata: {} });
}

/**
 * A stateful in-memory Lightsail (certificates, distributions, container services) behind
 * aws-sdk-client-mock, one state per region: names are unique per region, validation records are
 * published a few GetCertificates calls after CreateCertificate (as Lightsail takes a few seconds),
 * a certificate stays PENDING_VALIDATION until the test issues or fails it (or `issueAfterPolls`
 * elapses), only ISSUED us-east-1 certificates attach to distributions, a certificate in use refuses
 * deletion, and deleted means gone.
 */
export class FakeLightsail {
  /** The validation record Lightsail (ACM) gives a domain: stable per domain, under the domain. */
  public static recordFor(domain: string): { name: string; value: string } {
    const h = createHash('md5').update(domain).digest('hex');
    return { name: `_${h}.${domain}.`, value: `_${h.split('').reverse().join('')}.mhbtsbpdnt.acm-validations.aws.` };
  }

  /** Region -> name -> certificate. */
  public readonly certificates = new Map<string, Map<string, FakeCertificate>>();
  /** Distributions (all in us-east-1), by name. */
  public readonly distributions = new Map<string, FakeDistribution>();
  public readonly containerServices: FakeContainerService[] = [];
  /** Every call, in order. */
  public readonly log: FakeCall[] = [];
  /** The detailed GetCertificates call (1 = the first) that first shows a new certificate's records. */
  public recordsDelay = 1;
  /** How GetCertificates answers an unknown name: an empty list, or NotFoundException. */
  public unknownName: 'empty' | 'throw' = 'empty';
  /**
   * When set, a PENDING_VALIDATION certificate becomes `outcome` on the detailed GetCertificates
   * call after `polls` calls that showed it pending with its records (as if DNS validation ran).
   */
  public issueAfterPolls?: { readonly polls: number; readonly outcome: FakeStatus; readonly reason?: string };
  /** Page size of GetDistributions without a name. */
  public distributionPageSize = 2;
  /** Called after each call, with the operation (lets a test change state mid-sequence). */
  public onCall?: (call: FakeCall) => void;
  private readonly polls = new Map<string, number>();
  private readonly faults = new Map<string, Error[]>();
  private stub?: AwsStub<any, any, any>;

  public install(): this {
    // The cast bridges two @smithy/types versions in node_modules (see harness/fake-material.ts looseMock).
    const stub = mockClient(LightsailClient as never) as AwsStub<any, any, any>;
    this.stub = stub;
    const on = (command: any, operation: string, fn: (input: any, region: string) => unknown) => {
      stub.on(command).callsFake(async (input: any, getClient: () => any) => {
        const region = await getClient().config.region();
        return this.run(operation, region, input, () => fn(input, region));
      });
    };
    on(CreateCertificateCommand, 'CreateCertificate', (input, region) => this.create(input, region));
    on(GetCertificatesCommand, 'GetCertificates', (input, region) => this.get(input, region));
    on(DeleteCertificateCommand, 'DeleteCertificate', (input, region) => this.remove(input.certificateName, region));
    on(TagResourceCommand, 'TagResource', (input, region) => {
      const c = this.find(region, input.resourceName);
      for (const t of input.tags ?? []) c.tags.set(t.key, t.value ?? '');
      return { operations: [] };
    });
    on(UntagResourceCommand, 'UntagResource', (input, region) => {
      const c = this.find(region, input.resourceName);
      for (const k of input.tagKeys ?? []) c.tags.delete(k);
      return { operations: [] };
    });
    on(GetDistributionsCommand, 'GetDistributions', (input, region) => this.getDistributions(input, region));
    on(AttachCertificateToDistributionCommand, 'AttachCertificateToDistribution', (input, region) => {
      const d = this.distribution(input.distributionName, region);
      const c = this.certificates.get(DISTRIBUTION_REGION)?.get(input.certificateName);
      if (!c) throw notFound(`The certificate ${input.certificateName} does not exist.`);
      if (c.status !== 'ISSUED') throw invalid(`The certificate ${input.certificateName} is not valid. Only ISSUED certificates can be attached.`);
      d.certificateName = c.name;
      return { operation: { status: 'Succeeded' } };
    });
    on(DetachCertificateFromDistributionCommand, 'DetachCertificateFromDistribution', (input, region) => {
      const d = this.distribution(input.distributionName, region);
      d.certificateName = undefined;
      return { operation: { status: 'Succeeded' } };
    });
    on(GetContainerServicesCommand, 'GetContainerServices', (input, region) => ({
      containerServices: this.containerServices
        .filter((s) => s.region === region && (input.serviceName === undefined || s.name === input.serviceName))
        .map((s) => ({ containerServiceName: s.name, publicDomainNames: s.publicDomainNames })),
    }));
    return this;
  }

  public restore(): void {
    this.stub?.restore();
  }

  /** Queues an error for the next call(s) of `operation`. */
  public failNext(operation: string, error: Error): void {
    const list = this.faults.get(operation) ?? [];
    list.push(error);
    this.faults.set(operation, list);
  }

  public calls(): number {
    return this.log.length;
  }

  public writeCalls(): number {
    return this.log.filter((c) => WRITES.has(c.operation)).length;
  }

  public callsOf(operation: string): FakeCall[] {
    return this.log.filter((c) => c.operation === operation);
  }

  /** Every certificate in every region. */
  public all(): FakeCertificate[] {
    return [...this.certificates.values()].flatMap((m) => [...m.values()]);
  }

  public certificate(region: string, name: string): FakeCertificate | undefined {
    return this.certificates.get(region)?.get(name);
  }

  /** The only certificate (fails the test when there is not exactly one). */
  public only(): FakeCertificate {
    const all = this.all();
    if (all.length !== 1) {
      throw new Error(`expected exactly one certificate, found ${all.length}: ${all.map((c) => `${c.region}/${c.name}`).join(', ')}`);
    }
    return all[0];
  }

  public issue(c: FakeCertificate): void {
    c.status = 'ISSUED';
    for (const r of c.records) r.validationStatus = 'SUCCESS';
  }

  public fail(c: FakeCertificate, reason: string): void {
    c.status = 'FAILED';
    c.requestFailureReason = reason;
    for (const r of c.records) r.validationStatus = 'FAILED';
  }

  public addDistribution(name: string, certificateName?: string): FakeDistribution {
    const d: FakeDistribution = { name, certificateName };
    this.distributions.set(name, d);
    return d;
  }

  public addContainerService(region: string, name: string, publicDomainNames: Record<string, string[]>): void {
    this.containerServices.push({ name, region, publicDomainNames });
  }

  private async run(operation: string, region: string, input: Record<string, unknown>, fn: () => unknown): Promise<unknown> {
    const call: FakeCall = { operation, region, input: JSON.parse(JSON.stringify(input ?? {})) };
    this.log.push(call);
    try {
      const fault = this.faults.get(operation)?.shift();
      if (fault) {
        throw fault;
      }
      return fn();
    } finally {
      this.onCall?.(call);
    }
  }

  private find(region: string, name: string): FakeCertificate {
    const c = this.certificates.get(region)?.get(name);
    if (!c) {
      throw notFound(`The Certificate does not exist: ${name}`);
    }
    return c;
  }

  private create(input: any, region: string) {
    const name: string = input.certificateName;
    if (!name || !/^\w[\w-]*\w$/.test(name)) {
      throw invalid(`Invalid certificate name: ${name}`);
    }
    const sans: string[] = input.subjectAlternativeNames ?? [];
    if (sans.length > 9) {
      throw invalid('You can specify a maximum of nine alternate domains.');
    }
    if ([input.domainName, ...sans].some((d: string) => d.includes('*'))) {
      throw invalid('Wildcard domain entries are not supported.');
    }
    const inRegion = this.certificates.get(region) ?? new Map<string, FakeCertificate>();
    this.certificates.set(region, inRegion);
    if (inRegion.has(name)) {
      throw invalid(`Certificate with name ${name} already exists.`);
    }
    const requested = [input.domainName as string, ...sans];
    const c: FakeCertificate = {
      arn: `arn:aws:lightsail:${region}:${ACCOUNT}:Certificate/${randomUUID()}`,
      name,
      region,
      domainName: input.domainName,
      subjectAlternativeNames: [...new Set(requested)],
      status: 'PENDING_VALIDATION',
      recordsHiddenFor: this.recordsDelay,
      // One record per requested domain, as Lightsail lists them (a repeated domain repeats its record).
      records: requested.map((domain) => ({
        domainName: domain,
        resourceRecord: { ...FakeLightsail.recordFor(domain), type: 'CNAME' },
        validationStatus: 'PENDING_VALIDATION',
      })),
      tags: new Map((input.tags ?? []).map((t: { key: string; value?: string }) => [t.key, t.value ?? ''])),
    };
    inRegion.set(name, c);
    return {
      certificate: { certificateArn: c.arn, certificateName: c.name, domainName: c.domainName },
      operations: [{ status: 'Succeeded', operationType: 'CreateCertificate' }],
    };
  }

  private get(input: any, region: string) {
    const inRegion = [...(this.certificates.get(region)?.values() ?? [])];
    const selected = input.certificateName === undefined ? inRegion : inRegion.filter((c) => c.name === input.certificateName);
    if (input.certificateName !== undefined && selected.length === 0 && this.unknownName === 'throw') {
      throw notFound(`The Certificate does not exist: ${input.certificateName}`);
    }
    if (input.includeCertificateDetails) {
      for (const c of selected) this.advance(c);
    }
    return {
      certificates: selected.map((c) => ({
        certificateArn: c.arn,
        certificateName: c.name,
        domainName: c.domainName,
        tags: [...c.tags].map(([key, value]) => ({ key, value })),
        certificateDetail: input.includeCertificateDetails ? this.detail(c) : undefined,
      })),
    };
  }

  private advance(c: FakeCertificate): void {
    if (c.recordsHiddenFor > 0) {
      c.recordsHiddenFor--;
      return;
    }
    if (this.issueAfterPolls && c.status === 'PENDING_VALIDATION') {
      const n = (this.polls.get(c.arn) ?? 0) + 1;
      this.polls.set(c.arn, n);
      if (n > this.issueAfterPolls.polls) {
        if (this.issueAfterPolls.outcome === 'ISSUED') {
          this.issue(c);
        } else if (this.issueAfterPolls.outcome === 'FAILED') {
          this.fail(c, this.issueAfterPolls.reason ?? 'OTHER');
        } else {
          c.status = this.issueAfterPolls.outcome;
        }
      }
    }
  }

  private detail(c: FakeCertificate) {
    const published = c.recordsHiddenFor === 0;
    return {
      arn: c.arn,
      name: c.name,
      domainName: c.domainName,
      status: c.status,
      subjectAlternativeNames: [...c.subjectAlternativeNames],
      domainValidationRecords: published ? c.records.map((r) => ({ ...r, resourceRecord: { ...r.resourceRecord } })) : undefined,
      requestFailureReason: c.requestFailureReason,
      inUseResourceCount: this.users(c).length,
      tags: [...c.tags].map(([key, value]) => ({ key, value })),
    };
  }

  private users(c: FakeCertificate): string[] {
    const users: string[] = [];
    if (c.region === DISTRIBUTION_REGION) {
      for (const d of this.distributions.values()) {
        if (d.certificateName === c.name) users.push(d.name);
      }
    }
    for (const s of this.containerServices) {
      if (s.region === c.region && Object.prototype.hasOwnProperty.call(s.publicDomainNames, c.name)) users.push(s.name);
    }
    return users;
  }

  private remove(name: string, region: string) {
    const c = this.find(region, name);
    const users = this.users(c);
    if (users.length > 0) {
      throw invalid(`The certificate ${name} is in use by ${users.length} resource(s). Detach it before you delete it.`);
    }
    this.certificates.get(region)!.delete(name);
    return { operations: [{ status: 'Succeeded', operationType: 'DeleteCertificate' }] };
  }

  private distribution(name: string, region: string): FakeDistribution {
    if (region !== DISTRIBUTION_REGION) {
      throw invalid('Distribution-related APIs are only available in the us-east-1 Region.');
    }
    const d = this.distributions.get(name);
    if (!d) {
      throw notFound(`The distribution does not exist: ${name}`);
    }
    return d;
  }

  private getDistributions(input: any, region: string) {
    if (region !== DISTRIBUTION_REGION) {
      throw invalid('Distribution-related APIs are only available in the us-east-1 Region.');
    }
    const toOutput = (d: FakeDistribution) => ({ name: d.name, certificateName: d.certificateName });
    if (input.distributionName !== undefined) {
      return { distributions: [toOutput(this.distribution(input.distributionName, region))] };
    }
    const all = [...this.distributions.values()];
    const start = input.pageToken ? Number(input.pageToken) : 0;
    const page = all.slice(start, start + this.distributionPageSize);
    const next = start + this.distributionPageSize < all.length ? String(start + this.distributionPageSize) : undefined;
    return { distributions: page.map(toOutput), nextPageToken: next };
  }
}
