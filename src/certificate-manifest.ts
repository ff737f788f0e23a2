import { IConstruct } from 'constructs';
import {
  CERTIFICATE_MANIFEST_VERSION,
  CERTIFICATE_METADATA_TYPE,
  parseEntry,
  readAssemblyRecords,
} from './private/certificate-manifest';

/**
 * What the cloud assembly records about one certificate whose PEM was known at synth (format
 * version 1). Every construct of this library writes one entry per certificate it checked at
 * synth: the certificate itself, each certificate of a chain, each certificate of a trust bundle.
 *
 * The entry is stored as construct metadata of type `cdk-certificates:certificate`, which the CDK
 * writes with the stack into the cloud assembly. It holds public data only: never a private key.
 */
export interface CertificateManifestEntry {
  /** Format version of this entry; 1 for the format described here. */
  readonly version: number;
  /** Path of the construct that declared the certificate, e.g. `Prod/Certificates/Web`. */
  readonly constructPath: string;
  /** The construct property that holds the certificate, e.g. `certificateBody`, `certificateChain`. */
  readonly property: string;
  /**
   * The checks the library ran at synth, which a reader can re-run: `certificate` (a single
   * certificate body, valid now), `chain` (issuers in leaf-to-root order, each signed by the next,
   * the first signing the leaf), or `bundle` (trusted certificates in any order, each valid now).
   */
  readonly check: string;
  /** 1-based position of the certificate in the property's PEM. */
  readonly position: number;
  /** Number of certificates in the property's PEM. */
  readonly count: number;
  /** Subject DN, RDNs joined with `, `, e.g. `CN=www.example.com`. */
  readonly subject: string;
  /** Every subjectAltName entry with its type, e.g. `DNS:www.example.com`, `IP Address:10.0.0.1`. */
  readonly subjectAlternativeNames: string[];
  /** Issuer DN, in the same form as the subject. */
  readonly issuer: string;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** Start of validity, ISO 8601 in UTC. */
  readonly notBefore: string;
  /** End of validity, ISO 8601 in UTC. */
  readonly notAfter: string;
  /** SHA-256 fingerprint of the DER certificate, upper-case hex pairs joined by `:`. */
  readonly fingerprintSha256: string;
  /** Whether the certificate is a CA certificate (basicConstraints CA:TRUE). */
  readonly isCa: boolean;
  /** The certificate as PEM (public data; lets a reader re-run every check). */
  readonly certificatePem: string;
  /**
   * For a `chain` entry, the SHA-256 fingerprint of the certificate the chain was checked against
   * (recorded by the same construct under its own property).
   *
   * @default - the leaf was not known at synth, or the entry is not part of a chain
   */
  readonly leafFingerprintSha256?: string;
}

/**
 * The certificate manifest: the records this library's constructs add to the cloud assembly for
 * every certificate whose PEM is known at synth, and readers for them.
 */
export class CertificateManifest {
  /** The construct metadata type of a certificate record. */
  public static readonly METADATA_TYPE: string = CERTIFICATE_METADATA_TYPE;

  /** The format version this version of the library writes and reads. */
  public static readonly VERSION: number = CERTIFICATE_MANIFEST_VERSION;

  /**
   * The records of every construct under `scope` (inclusive), in construct-tree order, without
   * synthesizing.
   */
  public static entriesOf(scope: IConstruct): CertificateManifestEntry[] {
    const entries: CertificateManifestEntry[] = [];
    for (const node of scope.node.findAll()) {
      for (const metadata of node.node.metadata) {
        if (metadata.type === CERTIFICATE_METADATA_TYPE) {
          entries.push(parseEntry(metadata.data, node.node.path));
        }
      }
    }
    return entries;
  }

  /**
   * The records of a synthesized cloud assembly directory (e.g. `cdk.out`), nested Stage
   * assemblies included.
   */
  public static readAssembly(directory: string): CertificateManifestEntry[] {
    return readAssemblyRecords(directory).entries.map((located) => located.entry);
  }

  private constructor() {}
}
