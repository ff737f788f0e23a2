import { IConstruct } from 'constructs';
import {
  CERTIFICATE_MANIFEST_VERSION,
  CERTIFICATE_METADATA_TYPE,
  parseEntry,
  readAssemblyRecords,
} from '../contract/manifest';
import type { CertificateManifestEntry } from '../contract/manifest';

// Declared in the contract, which the CLI reads without the CDK; public from here.
export type { CertificateManifestEntry } from '../contract/manifest';


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
