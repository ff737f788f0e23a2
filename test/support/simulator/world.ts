/**
 * The simulated AWS world the stack simulator deploys into: one account, any number of regions
 * and stacks side by side, and the services behind the handlers.
 *
 * Which service is what, and why:
 * - **moto** (`moto_server` on loopback, real AWS SDK v3 over HTTP): Secrets Manager, SSM, ACM
 *   Private CA (CAs, issued certificates, activation, revocation), S3. Both the handler bundles
 *   (in-process, through `AWS_ENDPOINT_URL`) and the simulator's native resources
 *   (`AWS::ACMPCA::*`, `AWS::SecretsManager::Secret`) use it. Revocation is read from moto's
 *   own state dump (`GET /moto-api/data.json`, `acmpca.CertificateAuthority[].revoked_certificates`,
 *   keyed by the serial the handler sent): moto records RevokeCertificate there, so no proxy is needed.
 *   moto deviations met here: it ignores IssueCertificate's `Validity` (every certificate it issues
 *   is valid for 365 days) and makes every CA SHORT_LIVED_CERTIFICATE whatever UsageMode asks (so
 *   the handlers allow at most 7 days).
 * - **In-repo fakes** behind aws-sdk-client-mock, where moto lacks the API: IAM server certificates
 *   (`fakes/iam.ts`: moto has no server-certificate tag APIs nor UpdateServerCertificate), DMS
 *   certificates and endpoints (`fakes/dms.ts`: moto has no DMS certificates), Lightsail
 *   certificates (`fakes/lightsail.ts`: moto has no Lightsail). aws-sdk-client-mock replaces only
 *   the mocked client's `send`, so these fakes and moto serve side by side.
 * - **ACM** (imported certificates, `SimWorldOptions.acm`): the in-repo FakeAcm (`../../acm/fake-acm.ts`),
 *   in-process like the fakes above, because moto's ACM is not AWS where the handler looks: its
 *   GetCertificate appends an Amazon certificate to the chain, so the handler never recognises its
 *   own import (a retried or rolled-back step imports again), a re-import drops the tags, and it
 *   enforces neither the re-import rules nor ResourceInUse. FakeAcm keeps those rules, and the
 *   world marks the certificates its consumers use as in use, as ACM's InUseBy does.
 * - **Alibaba Cloud KMS**: `fakes/alibaba-kms-server.ts`, a local HTTP server that checks request
 *   signatures (not AWS at all).
 * The IAM and DMS fakes are account-wide singletons (IAM is global; the DMS fake names one region
 * in its ARNs), so DMS in two regions at once is not modelled.
 */
import { X509Certificate } from 'node:crypto';
import * as http from 'node:http';
import { ACMPCAClient, GetCertificateCommand } from '@aws-sdk/client-acm-pca';
import { FakeAcm } from '../../acm/fake-acm';
import { FakeAlibabaKmsServer } from '../fakes/alibaba-kms-server';
import { FakeDms } from '../fakes/dms';
import { FakeIam } from '../fakes/iam';
import { FakeLightsail } from '../fakes/lightsail';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MotoServer, startMoto } from '../moto';

/** Where a consumer points. */
export type CertificateTarget =
  | { readonly kind: 'iam'; readonly arn?: string; readonly id?: string; readonly name?: string }
  | { readonly kind: 'dms'; readonly arn: string }
  | { readonly kind: 'acm-pca'; readonly arn: string }
  | { readonly kind: 'acm'; readonly arn: string }
  | { readonly kind: 'alibaba'; readonly certificateId: string };

/** Something that serves a certificate: a listener, a distribution, an endpoint, or outside the stacks. */
export interface Consumer {
  /** e.g. `Web(us-east-1)/Listener` or `outside:partner-gateway`. */
  readonly name: string;
  readonly targets: readonly CertificateTarget[];
}

/** One resource operation of a stack, as CloudFormation's events would show it. */
export interface StepRecord {
  readonly seq: number;
  readonly stack: string;
  readonly phase: 'CREATE' | 'UPDATE' | 'UPDATE_CLEANUP' | 'ROLLBACK' | 'ROLLBACK_CLEANUP' | 'DELETE';
  readonly logicalId: string;
  readonly resourceType: string;
  /** Revert: a replaced resource taken back to its old physical ID without a call. */
  readonly action: 'Create' | 'Update' | 'Delete' | 'Revert' | 'Retain';
  readonly physicalId?: string;
  readonly ok: boolean;
  readonly reason?: string;
  /** The custom resource's response body, as the Provider framework sends it to CloudFormation. */
  readonly responseBytes?: number;
  /** Wall-clock milliseconds since the previous step (of any stack). */
  readonly ms?: number;
}

/** A certificate serial moto recorded as revoked, and the step after which it was first seen. */
export interface Revocation {
  readonly caArn: string;
  /** As the handler sent it (hex, colon-separated). */
  readonly serial: string;
  readonly reason: string;
  readonly afterSeq: number;
}

/** A broken invariant: a consumer points at a certificate that is gone or revoked. */
export interface Violation {
  readonly afterSeq: number;
  readonly step: string;
  readonly consumer: string;
  readonly certificate: string;
  readonly problem: string;
}

/** Options of {@link SimWorld.start}. */
export interface SimWorldOptions {
  /** Start the fake Alibaba KMS server. @default false */
  readonly alibaba?: boolean;
  /** Install the Lightsail fake. @default false */
  readonly lightsail?: boolean;
  /** Install the ACM fake (imported certificates). @default false */
  readonly acm?: boolean;
}

const ENV_KEYS = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** Hex serial without separators or leading zeros, lower case. */
export function normalizeSerial(serial: string): string {
  return serial.replace(/[^0-9a-fA-F]/g, '').toLowerCase().replace(/^0+/, '');
}

/** The serial of a PEM certificate, normalized; undefined when it does not parse. */
export function serialOfPem(pem: string | undefined): string | undefined {
  if (!pem) {
    return undefined;
  }
  try {
    return normalizeSerial(new X509Certificate(pem).serialNumber);
  } catch {
    return undefined;
  }
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(e);
        }
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** One account's AWS (and Alibaba) as the simulated stacks see it. */
export class SimWorld {
  public static async start(options: SimWorldOptions = {}): Promise<SimWorld> {
    const moto = await startMoto();
    const world = new SimWorld(moto);
    world.savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
    process.env.AWS_ENDPOINT_URL = moto.url;
    process.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = 'moto-test-session-token-not-real';
    world.iam.install();
    world.dms.install();
    if (options.lightsail) {
      world.lightsail = new FakeLightsail().install();
    }
    if (options.acm) {
      world.acm = new FakeAcm().install();
    }
    if (options.alibaba) {
      world.alibaba = new FakeAlibabaKmsServer({ regionId: 'cn-hangzhou', accountId: '5555666677778888' });
      await world.alibaba.start();
    }
    return world;
  }

  public readonly account = MOTO_ACCOUNT;
  public readonly iam = new FakeIam();
  public readonly dms = new FakeDms();
  public lightsail?: FakeLightsail;
  public acm?: FakeAcm;
  public alibaba?: FakeAlibabaKmsServer;
  /** Every resource operation of every stack, in order. */
  public readonly steps: StepRecord[] = [];
  public readonly revocations: Revocation[] = [];
  public readonly violations: Violation[] = [];
  /** Consumers inside stacks (by stack/logical/physical ID) and outside (registered by a test). */
  public readonly consumers = new Map<string, Consumer>();
  /** Every custom-resource response body size seen, in bytes. */
  /** Milliseconds spent checking the invariant. */
  public invariantMs = 0;
  public readonly responseSizes: Array<{ readonly seq: number; readonly bytes: number; readonly logicalId: string }> = [];
  private savedEnv: Record<string, string | undefined> = {};
  private lastStepAt = performance.now();
  private lastRevoked?: Map<string, string>;
  private readonly knownRevoked = new Set<string>();
  private readonly pcaClients = new Map<string, ACMPCAClient>();
  /** IAM names and DMS endpoints this world marked in use, from the consumers. */
  private readonly markedIam = new Set<string>();
  /** DMS endpoint identifier -> the certificate ARN it was attached to. */
  private readonly attachedDms = new Map<string, string>();
  /** ACM certificate ARNs this world marked in use, from the consumers. */
  private readonly markedAcm = new Set<string>();

  private constructor(public readonly moto: MotoServer) {}

  public async stop(): Promise<void> {
    this.iam.restore();
    this.dms.restore();
    this.lightsail?.restore();
    this.acm?.restore();
    await this.alibaba?.stop();
    for (const c of this.pcaClients.values()) {
      c.destroy();
    }
    await this.moto.stop();
    for (const [k, v] of Object.entries(this.savedEnv)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
  }

  /** An ACM Private CA client of `region`, against moto. */
  public pca(region: string): ACMPCAClient {
    let c = this.pcaClients.get(region);
    if (!c) {
      c = new ACMPCAClient({ region, endpoint: this.moto.url, credentials: { ...MOTO_CREDENTIALS }, maxAttempts: 1 });
      this.pcaClients.set(region, c);
    }
    return c;
  }

  /** Client configuration of any AWS SDK v3 client for moto in `region`. */
  public clientConfig(region: string) {
    return { region, endpoint: this.moto.url, credentials: { ...MOTO_CREDENTIALS }, maxAttempts: 1 };
  }

  /** Registers a consumer outside every stack (e.g. a partner's load balancer). */
  public addOutsideConsumer(name: string, ...targets: CertificateTarget[]): void {
    this.setConsumer(`outside:${name}`, { name: `outside:${name}`, targets });
  }

  public removeOutsideConsumer(name: string): void {
    this.removeConsumer(`outside:${name}`);
  }

  /** Sets (or replaces) a consumer, and marks what it uses in the IAM and DMS fakes as in use. */
  public setConsumer(key: string, consumer: Consumer): void {
    this.consumers.set(key, consumer);
    this.syncInUse();
  }

  public removeConsumer(key: string): void {
    this.consumers.delete(key);
    this.syncInUse();
  }

  /** Records one step; returns its sequence number. */
  public record(step: Omit<StepRecord, 'seq'>): StepRecord {
    const now = performance.now();
    const full = { ...step, seq: this.steps.length + 1, ms: Math.round(now - this.lastStepAt) };
    this.lastStepAt = now;
    this.steps.push(full);
    return full;
  }

  /** The steps of one logical ID (optionally one action), in order. */
  public stepsOf(logicalId: string, action?: StepRecord['action']): StepRecord[] {
    return this.steps.filter((s) => s.logicalId === logicalId && (action === undefined || s.action === action));
  }

  /**
   * The invariant, checked after every step: every consumer points at a certificate that exists,
   * and whose certificate (the PEM it serves) ACM Private CA has not revoked. Records revocations
   * first seen now, and violations. `touches` says what the step may have changed: a no-op stub
   * changes nothing, so its check is skipped; only a step that may call ACM Private CA (a custom
   * resource, an AWS::ACMPCA resource) reads moto's revocations again.
   */
  public async checkInvariant(step: StepRecord, touches: 'nothing' | 'consumers' | 'services' = 'services'): Promise<void> {
    if (touches === 'nothing') {
      return;
    }
    const t0 = performance.now();
    try {
      if (touches === 'services' || this.lastRevoked === undefined) {
        this.lastRevoked = await this.readRevocations(step.seq);
      }
      const revoked = this.lastRevoked;
      const label = `#${step.seq} ${step.stack} ${step.phase} ${step.action} ${step.logicalId}${step.physicalId ? ` (${step.physicalId})` : ''}${step.ok ? '' : ' FAILED'}`;
      for (const consumer of this.consumers.values()) {
        for (const target of consumer.targets) {
          const problem = await this.problemOf(target, revoked);
          if (problem) {
            this.violations.push({ afterSeq: step.seq, step: label, consumer: consumer.name, certificate: describeTarget(target), problem });
          }
        }
      }
    } finally {
      this.invariantMs += performance.now() - t0;
    }
  }

  /** The serials moto has recorded as revoked (normalized), recording the new ones. */
  public async readRevocations(afterSeq: number): Promise<Map<string, string>> {
    const data = await getJson(`${this.moto.url}/moto-api/data.json`);
    const cas: any[] = data?.acmpca?.CertificateAuthority ?? [];
    const revoked = new Map<string, string>();
    for (const ca of cas) {
      for (const [serial, info] of Object.entries<any>(ca.revoked_certificates ?? {})) {
        const key = normalizeSerial(serial);
        revoked.set(key, info?.revocation_reason ?? '');
        if (!this.knownRevoked.has(key)) {
          this.knownRevoked.add(key);
          this.revocations.push({ caArn: ca.arn, serial, reason: info?.revocation_reason ?? '', afterSeq });
        }
      }
    }
    return revoked;
  }

  private async problemOf(target: CertificateTarget, revoked: Map<string, string>): Promise<string | undefined> {
    const pemProblem = (pem: string | undefined, what: string) => {
      const serial = serialOfPem(pem);
      if (serial && revoked.has(serial)) {
        return `${what} serves certificate serial ${serial}, which ACM Private CA revoked (${revoked.get(serial)})`;
      }
      return undefined;
    };
    switch (target.kind) {
      case 'iam': {
        const c = this.findIam(target);
        if (!c) {
          return 'no such IAM server certificate';
        }
        return pemProblem(c.body, 'the IAM server certificate');
      }
      case 'dms': {
        const c = this.dms.certificates.get(target.arn);
        if (!c) {
          return 'no such DMS certificate';
        }
        return pemProblem(c.pem, 'the DMS certificate');
      }
      case 'alibaba': {
        const c = this.alibaba?.certificate(target.certificateId);
        if (!c) {
          return 'no such Alibaba KMS certificate';
        }
        if (c.status !== 'ACTIVE') {
          return `the Alibaba KMS certificate is ${c.status}`;
        }
        return pemProblem(c.certificatePem, 'the Alibaba KMS certificate');
      }
      case 'acm': {
        // Imported certificates: no revocation to check, only that ACM holds the certificate.
        // Without the ACM fake (SimWorldOptions.acm), ACM is not modelled and not checked.
        if (this.acm && !this.acm.certificates.has(target.arn)) {
          return 'no such ACM certificate';
        }
        return undefined;
      }
      case 'acm-pca': {
        const caArn = target.arn.replace(/\/certificate\/[^/]+$/, '');
        const region = target.arn.split(':')[3];
        try {
          const got = await this.pca(region).send(new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: target.arn }));
          return pemProblem(got.Certificate, 'the issued certificate');
        } catch (e) {
          // moto answers GetCertificate of a revoked certificate with RequestInProgressException.
          return `ACM Private CA: ${(e as Error).name}: ${(e as Error).message}`;
        }
      }
      default:
        return undefined;
    }
  }

  private findIam(t: { readonly arn?: string; readonly id?: string; readonly name?: string }) {
    return [...this.iam.certificates.values()].find((x) =>
      (t.arn !== undefined && this.iam.arn(x) === t.arn)
      || (t.id !== undefined && x.id === t.id)
      || (t.name !== undefined && x.name === t.name));
  }

  private syncInUse(): void {
    const iamNames = new Map<string, string>();
    const dmsEndpoints = new Map<string, string>();
    const acmUsers = new Map<string, string[]>();
    for (const consumer of this.consumers.values()) {
      consumer.targets.forEach((t, i) => {
        if (t.kind === 'acm') {
          acmUsers.set(t.arn, [...acmUsers.get(t.arn) ?? [], consumer.name]);
        } else if (t.kind === 'iam') {
          const c = this.findIam(t);
          const name = c?.name ?? t.name ?? t.arn?.split('/').pop();
          if (name) {
            iamNames.set(name, consumer.name);
          }
        } else if (t.kind === 'dms') {
          // The endpoint's identifier: the consumer's name (told apart when a replacement makes two).
          let identifier = consumer.targets.length > 1 ? `${consumer.name}#${i + 1}` : consumer.name;
          for (let n = 2; dmsEndpoints.has(identifier); n++) {
            identifier = `${consumer.name}(${n})`;
          }
          dmsEndpoints.set(identifier, t.arn);
        }
      });
    }
    for (const name of this.markedIam) {
      if (!iamNames.has(name)) {
        this.iam.inUse.delete(name);
        this.markedIam.delete(name);
      }
    }
    for (const [name, user] of iamNames) {
      if (!this.iam.inUse.has(name) || this.markedIam.has(name)) {
        this.iam.inUse.set(name, user);
        this.markedIam.add(name);
      }
    }
    if (this.acm) {
      for (const arn of this.markedAcm) {
        if (!acmUsers.has(arn)) {
          this.acm.inUse.delete(arn);
          this.markedAcm.delete(arn);
        }
      }
      for (const [arn, users] of acmUsers) {
        if (!this.acm.inUse.has(arn) || this.markedAcm.has(arn)) {
          this.acm.inUse.set(arn, users);
          this.markedAcm.add(arn);
        }
      }
    }
    for (const [identifier] of this.attachedDms) {
      if (!dmsEndpoints.has(identifier)) {
        this.dms.detachEndpoint(identifier);
        this.attachedDms.delete(identifier);
      }
    }
    for (const [identifier, arn] of dmsEndpoints) {
      if (this.attachedDms.get(identifier) !== arn) {
        this.dms.attachEndpoint(identifier, arn);
        this.attachedDms.set(identifier, arn);
      }
    }
  }
}

export function describeTarget(t: CertificateTarget): string {
  switch (t.kind) {
    case 'iam': return `IAM server certificate ${t.arn ?? t.id ?? t.name}`;
    case 'dms': return `DMS certificate ${t.arn}`;
    case 'acm-pca': return `ACM Private CA certificate ${t.arn}`;
    case 'acm': return `ACM certificate ${t.arn}`;
    case 'alibaba': return `Alibaba KMS certificate ${t.certificateId}`;
    default: return JSON.stringify(t);
  }
}
