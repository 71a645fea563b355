import { expect } from 'chai';
import { challenge, digestResponse, ha1, parseAuthorization, sameDigest } from '../../lib/security/digest.js';
import { NonceCounts, NonceIssuer } from '../../lib/security/nonces.js';
import { AuthFailures, DEFAULT_FAILURE_SETTINGS } from '../../lib/security/auth-failures.js';

// RFC 7616 §3.9.1: Mufasa, "Circle of Life", GET /dir/index.html.
const RFC7616 = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  password: 'Circle of Life',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  uri: '/dir/index.html',
  qop: 'auth',
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
};

describe('security/digest', () => {
  it('gives RFC 7616 §3.9.1 responses for MD5 and SHA-256', () => {
    const credentials = { ...RFC7616, response: '', algorithm: 'MD5' };
    const md5 = digestResponse('MD5', ha1('MD5', RFC7616.username, RFC7616.realm, RFC7616.password), 'GET', credentials);
    expect(md5).to.equal('8ca523f5e9506fed4657c9700eebdbec');
    const sha = digestResponse('SHA-256', ha1('SHA-256', RFC7616.username, RFC7616.realm, RFC7616.password), 'GET', credentials);
    expect(sha).to.equal('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('parses the RFC 7616 §3.9.1 Authorization header', () => {
    const header = `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256,
      nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
      qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
      opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`.replace(/\n\s*/g, ' ');
    const { password: _password, ...fields } = RFC7616;
    expect(parseAuthorization(header)).to.deep.equal({
      ...fields, algorithm: 'SHA-256', response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    });
  });

  it('reads quoted escapes, treats a missing algorithm as MD5 and refuses what is not a full Digest credential', () => {
    const parsed = parseAuthorization('digest username="a\\"b", realm="r", nonce="n", uri="sip:x@y", response="0"');
    expect(parsed).to.include({ username: 'a"b', algorithm: 'MD5', qop: undefined });
    expect(parseAuthorization('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).to.equal(undefined);
    expect(parseAuthorization('Digest username="a", realm="r"')).to.equal(undefined);
    expect(parseAuthorization('Digest username="a", username="b", realm="r", nonce="n", uri="u", response="0"')).to.equal(undefined);
    expect(parseAuthorization('Digest username="a, realm=')).to.equal(undefined);
  });

  it('writes challenges with qop="auth", opaque and stale', () => {
    expect(challenge('SHA-256', 'presenced', 'N', 'O', false)).to.equal('Digest realm="presenced", nonce="N", opaque="O", algorithm=SHA-256, qop="auth"');
    expect(challenge('MD5', 'presenced', 'N', 'O', true)).to.match(/algorithm=MD5, qop="auth", stale=true$/);
  });

  it('compares digests without regard to hex case', () => {
    expect(sameDigest('8ca523f5', '8CA523F5')).to.equal(true);
    expect(sameDigest('8ca523f5', '8ca523f6')).to.equal(false);
    expect(sameDigest('8ca523f5', '8ca523f')).to.equal(false);
  });
});

describe('security/nonces', () => {
  const secret = Buffer.alloc(32, 7);

  it('checks its own nonces without remembering them, and refuses forged or foreign ones', () => {
    let now = 1_000_000;
    const issuer = new NonceIssuer(secret, 60_000, () => now);
    const nonce = issuer.issue();
    expect(issuer.check(nonce)).to.deep.equal({ kind: 'fresh', issuedAt: 1_000_000 });
    now += 60_001;
    expect(issuer.check(nonce)).to.deep.equal({ kind: 'stale', issuedAt: 1_000_000 });
    const other = new NonceIssuer(Buffer.alloc(32, 8), 60_000, () => now);
    expect(other.check(nonce).kind).to.equal('invalid');
    const tampered = Buffer.from(nonce, 'base64url');
    tampered[0] ^= 1;
    expect(issuer.check(tampered.toString('base64url')).kind).to.equal('invalid');
    expect(issuer.check('not a nonce').kind).to.equal('invalid');
    expect(issuer.opaque).to.equal(new NonceIssuer(secret, 1).opaque);
  });

  it('accepts each nonce count once and only rising', () => {
    const counts = new NonceCounts(60_000, 10, () => 0);
    expect(counts.accept('n', 0, 1)).to.equal('accepted');
    expect(counts.accept('n', 0, 1)).to.equal('replayed');
    expect(counts.accept('n', 0, 3)).to.equal('accepted');
    expect(counts.accept('n', 0, 2)).to.equal('replayed');
  });

  it('never lets a nonce it had to forget early be used again', () => {
    const counts = new NonceCounts(60_000, 2, () => 100);
    counts.accept('a', 10, 1);
    counts.accept('b', 20, 1);
    counts.accept('c', 30, 1);
    expect(counts.size).to.equal(2);
    expect(counts.accept('a', 10, 1)).to.equal('forgotten');
    expect(counts.accept('d', 40, 1)).to.equal('accepted');
  });
});

describe('security/auth-failures', () => {
  it('answers the first failure at once and slows down the following ones', () => {
    const failures = new AuthFailures(DEFAULT_FAILURE_SETTINGS, () => 0);
    const delays = [1, 2, 3, 4, 5, 6, 7].map(() => failures.failed('192.0.2.1').delayMs);
    expect(delays).to.deep.equal([0, 200, 400, 800, 1600, 2000, 2000]);
    failures.succeeded('192.0.2.1');
    expect(failures.failed('192.0.2.1').delayMs).to.equal(0);
  });

  it('bans an address after N failures within the window, for the window', () => {
    let now = 0;
    const failures = new AuthFailures({ ...DEFAULT_FAILURE_SETTINGS, ban: { failures: 3, windowMs: 1000 } }, () => now);
    expect(failures.failed('192.0.2.1').banned).to.equal(false);
    expect(failures.failed('192.0.2.1').banned).to.equal(false);
    expect(failures.banned('192.0.2.1')).to.equal(false);
    expect(failures.failed('192.0.2.1').banned).to.equal(true);
    expect(failures.banned('192.0.2.1')).to.equal(true);
    expect(failures.banned('192.0.2.2')).to.equal(false);
    now = 1000;
    expect(failures.banned('192.0.2.1')).to.equal(false);
  });
});
