import * as fs from 'fs';
import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3_assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import type { MaterialSource } from '../contract/material-source';
import { CertificateInputError } from '../private/errors';
import { grantObjectRead } from '../private/grants';

/** S3's limit on an object key, in UTF-8 bytes. */
const S3_KEY_MAX_BYTES = 1024;

/**
 * Where an Oracle wallet (a `.sso` file) for a DMS certificate comes from.
 *
 * A wallet is binary: the handler reads it from S3 as bytes and hands those bytes to DMS
 * unchanged, so nothing is lost to text decoding. The handler may read exactly this one object.
 */
export abstract class CertificateWallet {
  /**
   * A wallet file on the machine that synthesizes the app, uploaded as an S3 asset.
   *
   * A new file content gives a new asset object, and so a new DMS certificate.
   *
   * @param filePath path of the `.sso` file, relative to the working directory of the CDK app
   */
  public static fromFile(filePath: string): CertificateWallet {
    return new FileCertificateWallet(filePath);
  }

  /**
   * A wallet already stored in S3.
   *
   * DMS sees a new wallet only when the construct does: to import new content, write it under a
   * new key (the content at a key is read at deploy, and an unchanged key means no update).
   *
   * @param bucket the bucket (its KMS key, if any, is granted for decryption too)
   * @param key the object key of the `.sso` file
   */
  public static fromBucket(bucket: s3.IBucket, key: string): CertificateWallet {
    return new BucketCertificateWallet(bucket, key);
  }

  /**
   * Where the wallet comes from, for messages.
   */
  public abstract readonly sourceDescription: string;

  /**
   * Grant `grantee` `s3:GetObject` on the wallet object only, and return the reference the
   * handler reads.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource;
}

class FileCertificateWallet extends CertificateWallet {
  public readonly sourceDescription: string;

  constructor(private readonly filePath: string) {
    super();
    if (Token.isUnresolved(filePath)) {
      throw new CertificateInputError('CertificateWallet.fromFile', 'the path must be known at synth, not a token');
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(filePath);
    } catch {
      throw new CertificateInputError('CertificateWallet.fromFile',
        `no file at '${filePath}' (resolved to '${path.resolve(filePath)}'); pass the path of the Oracle wallet .sso file`);
    }
    if (!stat.isFile()) {
      throw new CertificateInputError('CertificateWallet.fromFile',
        `'${filePath}' is not a file; pass the path of the Oracle wallet .sso file itself`);
    }
    if (stat.size === 0) {
      throw new CertificateInputError('CertificateWallet.fromFile', `'${filePath}' is empty; pass a non-empty Oracle wallet .sso file`);
    }
    this.sourceDescription = `the file ${filePath}`;
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): MaterialSource {
    // One asset per binding construct; the assembly stores identical files once.
    const asset = new s3_assets.Asset(scope, 'CertificateWallet', { path: this.filePath });
    // Not asset.grantRead(): that grants List/GetBucket on the whole staging bucket.
    grantObjectRead(grantee, asset.bucket.arnForObjects(asset.s3ObjectKey));
    return { kind: 's3', bucket: asset.s3BucketName, key: asset.s3ObjectKey };
  }
}

class BucketCertificateWallet extends CertificateWallet {
  public readonly sourceDescription: string;

  constructor(private readonly bucket: s3.IBucket, private readonly key: string) {
    super();
    if (!Token.isUnresolved(key)) {
      const bytes = Buffer.byteLength(key, 'utf8');
      if (bytes < 1 || bytes > S3_KEY_MAX_BYTES) {
        throw new CertificateInputError('CertificateWallet.fromBucket',
          `key must be 1 to ${S3_KEY_MAX_BYTES} bytes long, got ${bytes}`);
      }
      if (key.includes('*')) {
        // The grant is for this object only; a wildcard would widen it.
        throw new CertificateInputError('CertificateWallet.fromBucket', `key '${key}' must name one object, without '*'`);
      }
    }
    const bucketName = Token.isUnresolved(bucket.bucketName) ? bucket.node.path : bucket.bucketName;
    this.sourceDescription = `s3://${bucketName}/${Token.isUnresolved(key) ? '(token)' : key}`;
  }

  public _bind(_scope: Construct, grantee: iam.IGrantable): MaterialSource {
    grantObjectRead(grantee, this.bucket.arnForObjects(this.key), this.bucket.encryptionKey);
    return { kind: 's3', bucket: this.bucket.bucketName, key: this.key };
  }
}
