/**
 * Key pairs and PKCS#10 requests, made inside the Lambda with node:crypto (WebCrypto) and
 * @peculiar/x509. The private key leaves this module only as PKCS#8 PEM for the secret.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import type { IssuedCertificateSubject, IssuedKeyAlgorithmName } from '../../src/contract/issued-certificate';
import type { X500FieldRule } from '../../src/contract/x500';
import { lazy } from '../shared/lazy';

// Loaded only to build a CSR (an issuance), not on every cold start: it is most of the bundle.
const x509Module = lazy(async (): Promise<typeof X509> => {
  // @peculiar/x509 (through tsyringe) needs the Reflect metadata API loaded first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
});

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** A key pair: WebCrypto keys to sign the CSR, the PEM forms to store and compare. */
export interface GeneratedKey {
  readonly keys: CryptoKeyPair;
  /** PKCS#8 `PRIVATE KEY` PEM. */
  readonly privateKeyPem: string;
  /** SHA-256 (hex) of the SubjectPublicKeyInfo DER: identifies the key without revealing anything. */
  readonly publicKeyFingerprint: string;
}

/** The names to put in the CSR. */
export interface CsrRequest {
  readonly subject: IssuedCertificateSubject;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly emails: readonly string[];
  readonly uris: readonly string[];
}

function keyParams(alg: IssuedKeyAlgorithmName): RsaHashedKeyGenParams | EcKeyGenParams {
  switch (alg) {
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: Number(alg.slice(4)) };
    case 'EC_P256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'EC_P384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    default:
      throw new Error(`unknown key algorithm ${String(alg)}`);
  }
}

/** The algorithm the CSR is signed with (its own key's, proving possession). */
function csrSigning(alg: IssuedKeyAlgorithmName): Algorithm | EcdsaParams {
  if (alg === 'EC_P256') {
    return { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams;
  }
  if (alg === 'EC_P384') {
    return { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams;
  }
  return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams;
}

/** SHA-256 (hex) of a public key's SubjectPublicKeyInfo DER. */
export function publicKeyFingerprint(key: KeyObject): string {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** Generates a fresh key pair of `alg`. */
export async function generateKey(alg: IssuedKeyAlgorithmName): Promise<GeneratedKey> {
  const keys = await subtle.generateKey(keyParams(alg), true, ['sign', 'verify']) as CryptoKeyPair;
  const privateKey = KeyObject.from(keys.privateKey as unknown as webcrypto.CryptoKey);
  return {
    keys,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyFingerprint: publicKeyFingerprint(privateKey),
  };
}

/**
 * Loads a key this module generated earlier (PKCS#8 PEM), checking it is of `alg`. Returns
 * undefined when it is not (a pending key from a request with another key algorithm).
 */
export async function loadKey(privateKeyPem: string, alg: IssuedKeyAlgorithmName): Promise<GeneratedKey | undefined> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch {
    return undefined;
  }
  if (keyAlgorithmOf(privateKey) !== alg) {
    return undefined;
  }
  const params = keyParams(alg);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const importParams = 'namedCurve' in params ? params : { name: params.name, hash: params.hash };
  const keys: CryptoKeyPair = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, importParams, true, ['sign']),
    publicKey: await subtle.importKey('spki', spki, importParams, true, ['verify']),
  };
  return { keys, privateKeyPem, publicKeyFingerprint: publicKeyFingerprint(privateKey) };
}

/** The algorithm name of a key as this library names it, or undefined for others. */
export function keyAlgorithmOf(key: KeyObject): IssuedKeyAlgorithmName | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    return bits === 2048 || bits === 3072 || bits === 4096 ? `RSA_${bits}` as IssuedKeyAlgorithmName : undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    return details.namedCurve === 'prime256v1' ? 'EC_P256' : details.namedCurve === 'secp384r1' ? 'EC_P384' : undefined;
  }
  return undefined;
}

/**
 * Builds the subject: PrintableString where X.520 requires it (country, serial number, DN
 * qualifier), UTF8String for the rest (RFC 5280 4.1.2.4). Object values keep @peculiar/x509 from
 * reading a leading '#' as hex or stripping quotes.
 */
export function subjectName(x509: typeof X509, subject: IssuedCertificateSubject, rules: readonly X500FieldRule[]): X509.Name {
  const rdns: X509.JsonAttributeAndObjectValue[] = [];
  for (const rule of rules) {
    const value = subject[rule.field];
    if (value !== undefined && value !== '') {
      rdns.push({ [rule.oid]: [rule.printableOnly ? { printableString: value } : { utf8String: value }] });
    }
  }
  return new x509.Name(rdns);
}

/** Builds and signs a PKCS#10 request: subject as given, SANs in one extensionRequest. */
export async function buildCsr(
  key: GeneratedKey,
  alg: IssuedKeyAlgorithmName,
  request: CsrRequest,
  rules: readonly X500FieldRule[],
): Promise<string> {
  const x509 = await x509Module();
  const names: X509.JsonGeneralName[] = [
    ...request.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...request.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...request.emails.map((value) => ({ type: 'email' as const, value })),
    ...request.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(x509, request.subject, rules),
    keys: key.keys,
    signingAlgorithm: csrSigning(alg),
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return csr.toString('pem') + '\n';
}
