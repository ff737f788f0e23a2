/**
 * Every problem of one value in one message, with the fix (DESIGN.md, "Bad input"): the contract's
 * `...Problem` functions, shared by the constructs (synth) and the handlers (deploy). Each value
 * here breaks at least two rules; before, only the first was reported.
 */
import {
  ALIBABA_SUBJECT,
  subjectAlternativeNameProblem,
  subjectAlternativeNamesProblem,
  tagsProblem,
} from '../../src/contract/alibaba-kms-certificate';
import { dmsCertificateIdentifierProblem, dmsTagProblem } from '../../src/contract/dms-certificate';
import { dnsNameProblem, emailProblem, ISSUED_CERTIFICATE_SUBJECT } from '../../src/contract/issued-certificate';
import { certificateNameProblem, domainNameProblem, LIGHTSAIL_TAG_RULES } from '../../src/contract/lightsail-certificate';
import { PRIVATE_CA_SUBJECT } from '../../src/contract/private-ca';
import { joinProblems, joinRules, valueProblem } from '../../src/contract/problems';
import { IAM_TAG_RULES, serverCertificateNameProblem, serverCertificatePathProblem } from '../../src/contract/server-certificate';
import { tagProblems } from '../../src/contract/tags';

describe('joining problems', () => {
  test('rules read as one list; nothing broken is undefined', () => {
    expect(joinRules(['a'])).toBe('a');
    expect(joinRules(['a', 'b'])).toBe('a, and b');
    expect(joinRules(['a', 'b', 'c'])).toBe('a, b, and c');
    expect(valueProblem('v', [], 'fix')).toBeUndefined();
    expect(valueProblem('v', ['is bad', 'is worse'], 'fix it')).toBe("'v' is bad, and is worse; fix it");
    expect(joinProblems([undefined, 'x; fix x', undefined, 'y; fix y'])).toBe('x; fix x; and y; fix y');
    expect(joinProblems([undefined])).toBeUndefined();
  });

  test('a value too long to quote back is not quoted (the length rule says how long it is)', () => {
    expect(valueProblem('a'.repeat(101), ['is long'], 'shorten it')).toBe('is long; shorten it');
  });
});

describe('DMS certificate identifier', () => {
  test('bad--id-: the trailing hyphen and the double hyphen, with the fix', () => {
    expect(dmsCertificateIdentifierProblem('bad--id-')).toBe(
      "'bad--id-' must not end with a hyphen, and must not contain two consecutive hyphens; "
      + 'use 1 to 255 ASCII letters, digits and single hyphens, starting with a letter and not ending with a hyphen (e.g. db-trust-1)');
  });

  test('every rule at once', () => {
    const problem = dmsCertificateIdentifierProblem(`9_${'a'.repeat(260)}--x-`)!;
    for (const rule of ['must be 1 to 255 characters long, got 266', 'must begin with an ASCII letter', "not '_' (first at position 2)",
      'must not end with a hyphen', 'must not contain two consecutive hyphens', '; use 1 to 255']) {
      expect(problem).toContain(rule);
    }
  });

  test('an empty identifier breaks only the length rule; a valid one none', () => {
    expect(dmsCertificateIdentifierProblem('')).toMatch(/^'' must be 1 to 255 characters long, got 0; use /);
    expect(dmsCertificateIdentifierProblem('db-trust-1')).toBeUndefined();
  });
});

describe('IAM server certificate name and path', () => {
  test('a name too long and with refused characters', () => {
    expect(serverCertificateNameProblem(`${'a'.repeat(127)} b/c`)).toBe(
      "must be 1 to 128 characters long, got 131, and may hold only ASCII letters, digits and _+=,.@- (no spaces), not ' ', '/'; "
      + 'use 1 to 128 ASCII letters, digits and _+=,.@- (e.g. web-2026), or leave serverCertificateName out to have one generated');
    expect(serverCertificateNameProblem('web-2026')).toBeUndefined();
  });

  test('a path neither slashed nor under /cloudfront/ for CloudFront', () => {
    expect(serverCertificatePathProblem('web', true)).toBe(
      "'web' must be '/' alone or begin and end with '/', with characters from U+0021 to U+007F between, "
      + "and must begin with '/cloudfront/' for a certificate used by CloudFront (forCloudFront is true); "
      + "use '/cloudfront/' or a path below it such as '/cloudfront/web/', or leave path out");
    expect(serverCertificatePathProblem('/web/', false)).toBeUndefined();
    expect(serverCertificatePathProblem('/cloudfront/web/', true)).toBeUndefined();
  });
});

describe('Lightsail certificate name and domains', () => {
  test('a name with a refused character that begins with a hyphen', () => {
    expect(certificateNameProblem('-my.cert')).toMatch(
      /^'-my\.cert' may hold only ASCII letters, digits, hyphens and underscores, not '\.', and must begin and end with a letter or digit; use 2 to 255 /);
    expect(certificateNameProblem('www-example-com')).toBeUndefined();
  });

  test('a domain that is a wildcard, ends with a dot and has a bad label', () => {
    expect(domainNameProblem('*.exa_mple.com.', 64)).toBe(
      "'*.exa_mple.com.' is a wildcard name, which Lightsail certificates do not support (list each name instead), "
      + 'must be written without the trailing dot, and is not a valid DNS name: each label must be 1 to 63 letters, digits or hyphens, '
      + "not beginning or ending with a hyphen (label 'exa_mple'); give a public DNS name such as www.example.com");
  });

  test('a single numeric label over the length limit', () => {
    const problem = domainNameProblem('1'.repeat(70), 64)!;
    expect(problem).toContain('must be 1 to 64 characters long, got 70');
    expect(problem).toContain('is not a fully qualified domain name');
    expect(problem).toContain('label');
    expect(domainNameProblem('www.example.com', 64)).toBeUndefined();
    expect(domainNameProblem('example.123', 64)).toMatch(/numeric top-level domain/);
  });
});

describe('issued certificate SANs', () => {
  test('a DNS name with a trailing dot, a misplaced wildcard and a bad label', () => {
    expect(dnsNameProblem('www.*.exa_mple.com.')).toBe(
      "'www.*.exa_mple.com.' must not end with a dot, may hold a wildcard only as its first label (e.g. *.example.com), "
      + 'and is not a valid DNS name: each label is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen; '
      + 'use letters, digits and hyphens in dot-separated labels of 1 to 63 characters, a wildcard only as the whole first label (e.g. www.example.com, *.example.com)');
    expect(dnsNameProblem('*.example.com')).toBeUndefined();
  });

  test('an email whose local part and domain are both wrong', () => {
    expect(emailProblem('o ps@exa_mple.com')).toMatch(
      /^'o ps@exa_mple\.com' is not an email address: the part before '@' holds characters an rfc822Name cannot carry .*, and 'exa_mple\.com' is not a valid domain/);
    expect(emailProblem('ops@')).toMatch(/write it as local@domain/);
    expect(emailProblem('ops@example.com')).toBeUndefined();
  });
});

describe('X.500 subjects (issued certificates, CAs, Alibaba KMS)', () => {
  const field = (rules: typeof ISSUED_CERTIFICATE_SUBJECT, name: string) => rules.fields.find((f) => f.field === name)!;

  test('an issued certificate country too long, not letters and not printable', () => {
    expect(ISSUED_CERTIFICATE_SUBJECT.problem(field(ISSUED_CERTIFICATE_SUBJECT, 'Country'), 'U_S')).toBe(
      "must be 1 to 2 characters long, got 3, 'U_S' must be a two-letter ISO 3166 country code (e.g. US), and "
      + "'U_S' may hold only letters, digits, spaces and '()+,-./:=? (an X.680 PrintableString)");
  });

  test('a CA common name too long with a line break', () => {
    const problem = PRIVATE_CA_SUBJECT.problem(field(PRIVATE_CA_SUBJECT, 'CommonName'), `${'x'.repeat(64)}\n`)!;
    expect(problem).toMatch(/^must be 1 to 64 characters long, got 65, and may not hold control characters/);
  });

  test('an Alibaba country in lower case, too long and padded', () => {
    expect(ALIBABA_SUBJECT.problem(field(ALIBABA_SUBJECT, 'Country'), ' cn')).toBe(
      "' cn' is not a two-letter ISO 3166-1 country code in upper case (e.g. CN, US, DE), must be at most 2 characters, got 3, "
      + 'and may not start or end with a space (trim it)');
  });
});

describe('Alibaba KMS SANs and tags', () => {
  test('a SAN too long that is not a DNS name', () => {
    expect(subjectAlternativeNameProblem(`${'a b'.repeat(90)}`)).toMatch(
      /^must be 1 to 253 characters long, got 270, and is not a DNS name; use letters, digits and hyphens/);
  });

  test('a SAN list over the limit, with a bad name and a duplicate', () => {
    const names = ['not a host', ...Array.from({ length: 10 }, (_, i) => `h${i}.example.com`), 'H1.example.com'];
    const problem = subjectAlternativeNamesProblem(names)!;
    expect(problem).toMatch(/^KMS accepts at most 10 names, got 12; split them over several certificates; and 'not a host' is not a DNS name; use .*; and lists 'H1\.example\.com' twice; list each name once$/);
  });

  test('every tag problem, not the first', () => {
    const problem = tagsProblem([
      { Key: 'aliyun:team', Value: 'v' },
      { Key: 'k', Value: 'v'.repeat(129) },
    ])!;
    expect(problem).toContain("tag key 'aliyun:team' may not start with 'aliyun' or 'acs:'");
    expect(problem).toContain("the value of tag 'k' must be at most 128 characters long, got 129");
  });
});

describe('tags: every rule one tag breaks', () => {
  test('a reserved DMS key with refused characters and a reserved value', () => {
    expect(dmsTagProblem('aws:a#', 'dms:x')).toBe(
      "tag key 'aws:a#' must not begin with 'aws:' or 'dms:' (reserved by AWS), and may hold only letters, digits, spaces and _ . : / = + -, "
      + "and tag value 'dms:x' must not begin with 'aws:' or 'dms:' (reserved by AWS); change the tag where Tags.of(scope).add() sets it, "
      + "or keep it off this resource with Tags.of(scope).add(key, value, { excludeResourceTypes: ['Custom::DmsCertificate'] })");
    expect(dmsTagProblem('team', 'platform')).toBeUndefined();
  });

  test('an IAM key too long whose value is too long too', () => {
    const [problem, ...rest] = tagProblems(IAM_TAG_RULES, [{ Key: 'k'.repeat(129), Value: 'v'.repeat(257) }]);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^tag key 'k+' must be 1 to 128 characters long, got 129, and the value of tag 'k+' must be at most 256 characters long, got 257; change the tag/);
  });

  test("a key in the library's namespace with a refused value character", () => {
    const [problem] = tagProblems(LIGHTSAIL_TAG_RULES, [{ Key: 'cdk-certificates:x', Value: 'a#b' }]);
    expect(problem).toMatch(/^tag key 'cdk-certificates:x' begins with 'cdk-certificates:', .*; choose another key; and tag value 'a#b' may hold only letters/);
  });
});
