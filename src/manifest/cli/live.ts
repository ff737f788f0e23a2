/**
 * The AWS SDK v3 side of `cdk-certificates check --live` (./live-check.ts), and the entry of the live
 * bundle (assets/manifest/cli/live/index.js, built by `.projenrc.ts` with the SDK clients bundled
 * in). main.ts loads that bundle only for `check --live`, so `check` itself stays one small,
 * self-contained file. Each client is loaded on its first use.
 *
 * Every call is a read: cloudformation:ListStackResources, iam:GetServerCertificate,
 * dms:DescribeCertificates, dms:DescribeEndpoints, lightsail:GetCertificates,
 * acm:DescribeCertificate, acm:GetCertificate, acm-pca:GetCertificateAuthorityCertificate,
 * acm-pca:GetCertificate. No private key is ever read. Outside AWS, it fetches the CRLs the
 * certificates name (http GET, see {@link fetchCrlOverHttp}).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { CliIo } from './check';
import { LiveArgs, LiveServices, runLiveCli, ServiceCertificate, StackResource } from './live-check';

/** Client configuration of every service (tests point it at moto). */
export interface SdkServicesOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Whether an SDK error is the service's "there is no such thing". */
function isNotFound(e: unknown, ...names: string[]): boolean {
  const name = (e as { name?: string } | undefined)?.name ?? '';
  return names.includes(name);
}

/** One client per service and region, made on first use. */
function lazy<T>(make: (region: string | undefined) => Promise<T>): (region?: string) => Promise<T> {
  const clients = new Map<string, Promise<T>>();
  return (region?: string) => {
    const key = region ?? '';
    let client = clients.get(key);
    if (!client) {
      client = make(region);
      clients.set(key, client);
    }
    return client;
  };
}

/**
 * The region of an ARN: a certificate lives where its ARN says, which is not always the stack's
 * region (a Lightsail certificate for a distribution is in us-east-1 whatever the stack's region).
 */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && parts[0] === 'arn' && /^[a-z]{2}(-[a-z]+)+-\d+$/.test(parts[3]) ? parts[3] : undefined;
}

/** How long one CRL fetch may take, and how large a CRL may be. */
export const CRL_FETCH_TIMEOUT_MS = 5_000;
export const CRL_MAX_BYTES = 10 * 1024 * 1024;

/**
 * GETs a CRL from an http(s) URL: at most {@link CRL_FETCH_TIMEOUT_MS} per request, at most
 * {@link CRL_MAX_BYTES}, following up to 3 redirects. Rejects on anything else than a 200.
 */
export function fetchCrlOverHttp(url: string, redirects = 3): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const get = url.startsWith('https://') ? https.get : url.startsWith('http://') ? http.get : undefined;
    if (!get) {
      reject(new Error(`not an http URL: ${url}`));
      return;
    }
    const req = get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        fetchCrlOverHttp(new URL(res.headers.location, url).toString(), redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > CRL_MAX_BYTES) {
          req.destroy(new Error(`larger than ${CRL_MAX_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${CRL_FETCH_TIMEOUT_MS} ms`)), CRL_FETCH_TIMEOUT_MS);
    timer.unref();
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
  });
}

/** {@link LiveServices} over the AWS SDK v3. */
export function sdkServices(options: SdkServicesOptions = {}): LiveServices {
  const config = (region?: string) => ({
    ...(region ?? options.region ? { region: region ?? options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
  });
  const cfn = lazy(async (region) => {
    const m = await import('@aws-sdk/client-cloudformation');
    return { m, client: new m.CloudFormationClient(config(region)) };
  });
  const iam = lazy(async (region) => {
    const m = await import('@aws-sdk/client-iam');
    return { m, client: new m.IAMClient(config(region)) };
  });
  const dms = lazy(async (region) => {
    const m = await import('@aws-sdk/client-database-migration-service');
    return { m, client: new m.DatabaseMigrationServiceClient(config(region)) };
  });
  const lightsail = lazy(async (region) => {
    const m = await import('@aws-sdk/client-lightsail');
    return { m, client: new m.LightsailClient(config(region)) };
  });
  const acm = lazy(async (region) => {
    const m = await import('@aws-sdk/client-acm');
    return { m, client: new m.ACMClient(config(region)) };
  });
  const pca = lazy(async (region) => {
    const m = await import('@aws-sdk/client-acm-pca');
    return { m, client: new m.ACMPCAClient(config(region)) };
  });

  return {
    fetchCrl: (url: string) => fetchCrlOverHttp(url),
    async stackResources(stackName: string): Promise<StackResource[]> {
      const { m, client } = await cfn();
      const resources: StackResource[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new m.ListStackResourcesCommand({ StackName: stackName, NextToken: nextToken }));
        for (const r of page.StackResourceSummaries ?? []) {
          resources.push({ logicalId: r.LogicalResourceId ?? '', physicalId: r.PhysicalResourceId, type: r.ResourceType ?? '', status: r.ResourceStatus });
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return resources;
    },

    async iamServerCertificate(name: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await iam();
      try {
        const out = await client.send(new m.GetServerCertificateCommand({ ServerCertificateName: name }));
        return { certificatePem: out.ServerCertificate?.CertificateBody, chainPem: out.ServerCertificate?.CertificateChain };
      } catch (e) {
        if (isNotFound(e, 'NoSuchEntityException', 'NoSuchEntity')) return undefined;
        throw e;
      }
    },

    async dmsCertificate(arn: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await dms(arnRegion(arn));
      let certificate;
      try {
        const out = await client.send(new m.DescribeCertificatesCommand({ Filters: [{ Name: 'certificate-arn', Values: [arn] }] }));
        certificate = out.Certificates?.find((c) => c.CertificateArn === arn);
      } catch (e) {
        if (isNotFound(e, 'ResourceNotFoundFault')) return undefined;
        throw e;
      }
      if (!certificate) return undefined;
      const usedBy: string[] = [];
      let marker: string | undefined;
      do {
        const page = await client.send(new m.DescribeEndpointsCommand({ Marker: marker }));
        for (const endpoint of page.Endpoints ?? []) {
          if (endpoint.CertificateArn === arn) usedBy.push(`DMS endpoint ${endpoint.EndpointIdentifier ?? endpoint.EndpointArn}`);
        }
        marker = page.Marker;
      } while (marker);
      return {
        // An Oracle wallet has no PEM: its dates come from DMS.
        certificatePem: certificate.CertificatePem || undefined,
        notBefore: certificate.ValidFromDate,
        notAfter: certificate.ValidToDate,
        usedBy,
      };
    },

    async lightsailCertificate(arn: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await lightsail(arnRegion(arn));
      let pageToken: string | undefined;
      do {
        const page = await client.send(new m.GetCertificatesCommand({ includeCertificateDetails: true, pageToken }));
        const found = page.certificates?.find((c) => c.certificateArn === arn);
        if (found) {
          const d = found.certificateDetail ?? {};
          const users = d.inUseResourceCount ?? 0;
          return {
            notBefore: d.notBefore,
            notAfter: d.notAfter,
            subject: d.domainName ?? found.domainName,
            serialNumber: d.serialNumber,
            status: d.status,
            healthyStatuses: ['ISSUED'],
            revokedAt: d.revokedAt,
            // Lightsail says how many resources use it, not which.
            usedBy: users === 0 ? [] : [`${users} Lightsail resource(s)`],
          };
        }
        pageToken = page.nextPageToken;
      } while (pageToken);
      return undefined;
    },

    async acmCertificate(arn: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await acm(arnRegion(arn));
      let described;
      try {
        described = (await client.send(new m.DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
      } catch (e) {
        if (isNotFound(e, 'ResourceNotFoundException')) return undefined;
        throw e;
      }
      let certificatePem: string | undefined;
      let chainPem: string | undefined;
      if (described?.Status === 'ISSUED') {
        const out = await client.send(new m.GetCertificateCommand({ CertificateArn: arn }));
        certificatePem = out.Certificate;
        chainPem = out.CertificateChain;
      }
      return {
        certificatePem,
        chainPem,
        notBefore: described?.NotBefore,
        notAfter: described?.NotAfter,
        subject: described?.Subject ?? described?.DomainName,
        serialNumber: described?.Serial,
        status: described?.Status,
        healthyStatuses: ['ISSUED'],
        revokedAt: described?.RevokedAt,
        usedBy: described?.InUseBy ?? [],
      };
    },

    async privateCaCertificate(caArn: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await pca(arnRegion(caArn));
      try {
        const out = await client.send(new m.GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }));
        return { certificatePem: out.Certificate, chainPem: out.CertificateChain };
      } catch (e) {
        if (isNotFound(e, 'ResourceNotFoundException')) return undefined;
        if (isNotFound(e, 'InvalidStateException')) {
          // No certificate installed yet, or a CA deleted (restorable) or failed.
          return { status: `not readable (${(e as Error).message})`, healthyStatuses: ['ACTIVE'] };
        }
        throw e;
      }
    },

    async privateCaIssuedCertificate(caArn: string, certificateArn: string): Promise<ServiceCertificate | undefined> {
      const { m, client } = await pca(arnRegion(certificateArn));
      try {
        const out = await client.send(new m.GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }));
        return { certificatePem: out.Certificate, chainPem: out.CertificateChain };
      } catch (e) {
        if (isNotFound(e, 'ResourceNotFoundException')) return undefined;
        if (isNotFound(e, 'RequestInProgressException')) {
          return { status: 'PENDING (ACM Private CA is still issuing it)', healthyStatuses: ['ISSUED'] };
        }
        throw e;
      }
    },
  };
}

/** The services of a `check --live` run: the SDK with the region and endpoint of its arguments. */
export function servicesFor(args: LiveArgs): LiveServices {
  return sdkServices({ region: args.region, endpoint: args.endpointUrl });
}

/** Runs `check --live ...` (argv without `check`) over the AWS SDK: what main.ts calls in this bundle. */
export function runLiveCheck(argv: string[], io: CliIo): Promise<number> {
  return runLiveCli(argv, io, servicesFor);
}
