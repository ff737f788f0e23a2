/**
 * Certificates with chosen Key Usage, Extended Key Usage and key types for the ACM tests (the
 * shared fixtures make serverAuth leaves only). Generated at test time; no key is committed.
 */
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { TestCertificate } from '../support/fixtures/pki';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY_MS = 24 * 60 * 60 * 1000;

export const KU = x509.KeyUsageFlags;
export const EKU = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
  codeSigning: x509.ExtendedKeyUsage.codeSigning,
};

export type AcmTestKey = 'RSA_1024' | 'RSA_1536' | 'RSA_2048' | 'RSA_4096' | 'EC_P256' | 'EC_P384' | 'EC_P521';

export interface UsageOptions {
  /** Key Usage flags (sum of `KU` values); null for no Key Usage extension. @default digitalSignature + keyEncipherment */
  readonly keyUsage?: number | null;
  /** EKU OIDs; null for no Extended Key Usage extension. @default [serverAuth] */
  readonly extendedKeyUsage?: string[] | null;
  /** @default 'RSA_2048' */
  readonly key?: AcmTestKey;
  /** @default 'www.example.com' */
  readonly commonName?: string;
  /** @default [commonName] */
  readonly dnsNames?: string[];
  /** @default now + 365 days */
  readonly notAfter?: Date;
}

function params(key: AcmTestKey): RsaHashedKeyGenParams | EcKeyGenParams {
  if (key.startsWith('RSA_')) {
    return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: Number(key.slice(4)) };
  }
  return { name: 'ECDSA', namedCurve: `P-${key.slice(4)}` };
}

function signing(key: CryptoKey): Algorithm {
  const alg = key.algorithm as EcKeyAlgorithm;
  return alg.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } as Algorithm : { name: alg.name, hash: 'SHA-256' } as Algorithm;
}

/** A leaf issued by `issuer` with the chosen usages and key. */
export async function makeUsageLeaf(issuer: TestCertificate, options: UsageOptions = {}): Promise<TestCertificate> {
  const keys = await webcrypto.subtle.generateKey(params(options.key ?? 'RSA_2048'), true, ['sign', 'verify']) as unknown as CryptoKeyPair;
  const cn = options.commonName ?? 'www.example.com';
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  const keyUsage = options.keyUsage === undefined ? KU.digitalSignature + KU.keyEncipherment : options.keyUsage;
  if (keyUsage !== null) {
    extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  }
  const eku = options.extendedKeyUsage === undefined ? [EKU.serverAuth] : options.extendedKeyUsage;
  if (eku !== null) {
    extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  }
  extensions.push(new x509.SubjectAlternativeNameExtension((options.dnsNames ?? [cn]).map((value) => ({ type: 'dns' as const, value }))));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: Date.now().toString(16) + Math.floor(Math.random() * 1e6).toString(16),
    subject: [{ CN: [cn] }],
    issuer: issuer.certificate.subjectName,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signing(issuer.keys.privateKey),
    extensions,
  });
  const toKeyObject = (k: CryptoKey) => KeyObject.from(k as unknown as webcrypto.CryptoKey);
  return {
    keys,
    certificate,
    certificatePem: certificate.toString('pem') + '\n',
    privateKeyPem: toKeyObject(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: toKeyObject(keys.publicKey).export({ type: 'spki', format: 'pem' }) as string,
  };
}
