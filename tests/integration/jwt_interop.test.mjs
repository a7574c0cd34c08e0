// JWT interoperability with the npm `jsonwebtoken` package (what Node backends sign with):
// tokens it signs (HS256/384/512, RS256, ES256) verify with `relay token verify`, tokens Relay
// signs verify with it, and what must be refused is: expired, wrong issuer or audience, "none",
// the HS256-with-the-RSA-public-key confusion, a token for another secret.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import jwt from 'jsonwebtoken';

const RELAY = process.env.RELAY_BIN;
assert.ok(RELAY, 'RELAY_BIN must be set');
const dir = mkdtempSync(join(tmpdir(), 'relay-jwt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'a development secret of some length';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' });
writeFileSync(join(dir, 'rsa.pem'), rsaPem);
writeFileSync(join(dir, 'ec.pem'), ecPem);

// `relay token verify`: { ok, out } (exit 0 prints the claims, exit 1 "invalid: <reason>").
function verify(token, ...flags) {
  try {
    const out = execFileSync(RELAY, ['token', 'verify', ...flags, token], { encoding: 'utf8' });
    return { ok: true, claims: JSON.parse(out) };
  } catch (e) {
    assert.equal(e.status, 1, `relay token verify failed oddly: ${e.stderr} ${e.stdout}`);
    return { ok: false, reason: e.stdout.trim() };
  }
}

const claims = { sub: 'alice', relay: { subscribe: ['chat:*'] } };
const keyFlags = ['--secret', SECRET, '--public-key', join(dir, 'rsa.pem'),
  '--public-key', join(dir, 'ec.pem')];

test('tokens signed by jsonwebtoken verify, with every algorithm', () => {
  for (const [algorithm, key] of [['HS256', SECRET], ['HS384', SECRET], ['HS512', SECRET],
    ['RS256', rsa.privateKey], ['ES256', ec.privateKey]]) {
    const token = jwt.sign(claims, key, { algorithm, expiresIn: '10m', issuer: 'backend',
      audience: 'relay' });
    const r = verify(token, ...keyFlags, '--issuer', 'backend', '--audience', 'relay');
    assert.ok(r.ok, `${algorithm}: ${r.reason}`);
    assert.equal(r.claims.sub, 'alice', algorithm);
    assert.deepEqual(r.claims.relay, claims.relay, algorithm);
  }
});

test('what must be refused is refused, with the reason', () => {
  const expired = jwt.sign(claims, SECRET, { expiresIn: -120 });
  assert.deepEqual(verify(expired, ...keyFlags), { ok: false, reason: 'invalid: token expired' });
  const later = jwt.sign(claims, SECRET, { expiresIn: '10m', notBefore: '5m' });
  assert.deepEqual(verify(later, ...keyFlags),
    { ok: false, reason: 'invalid: token not yet valid' });
  const other = jwt.sign(claims, 'another secret', { expiresIn: '10m' });
  assert.deepEqual(verify(other, ...keyFlags),
    { ok: false, reason: 'invalid: invalid token signature' });
  const iss = jwt.sign(claims, SECRET, { expiresIn: '10m', issuer: 'someone' });
  assert.deepEqual(verify(iss, ...keyFlags, '--issuer', 'backend'),
    { ok: false, reason: 'invalid: token issuer not accepted' });
  const aud = jwt.sign(claims, SECRET, { expiresIn: '10m', audience: ['a', 'b'] });
  assert.deepEqual(verify(aud, ...keyFlags, '--audience', 'relay'),
    { ok: false, reason: 'invalid: token audience not accepted' });
  assert.ok(verify(aud, ...keyFlags, '--audience', 'b').ok, 'one of several audiences');
  const forever = jwt.sign(claims, SECRET);  // no exp
  assert.deepEqual(verify(forever, ...keyFlags),
    { ok: false, reason: 'invalid: token without expiry' });
  const none = jwt.sign(claims, null, { algorithm: 'none', expiresIn: '10m' });
  assert.deepEqual(verify(none, ...keyFlags),
    { ok: false, reason: 'invalid: token algorithm not accepted' });
  // Algorithm confusion: HS256 keyed with the RSA public key's PEM (what a verifier that takes
  // the algorithm from the token and the key from its config would accept).
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: 4e9 })}`;
  const forged = `${head}.${createHmac('sha256', rsaPem).update(head).digest('base64url')}`;
  assert.deepEqual(verify(forged, '--public-key', join(dir, 'rsa.pem')),
    { ok: false, reason: 'invalid: token algorithm not accepted' });
});

test('tokens Relay signs verify with jsonwebtoken', () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const token = execFileSync(RELAY, ['token', '--secret', SECRET, '--user', 'bob',
      '--rooms', 'chat:*', '--ttl', '15m', '--alg', alg, '--issuer', 'relay-cli'],
    { encoding: 'utf8' }).trim();
    const decoded = jwt.verify(token, SECRET, { algorithms: [alg], issuer: 'relay-cli' });
    assert.equal(decoded.sub, 'bob');
    assert.deepEqual(decoded.relay, { subscribe: ['chat:*'], publish: ['chat:*'] });
    assert.ok(decoded.exp - decoded.iat === 900, `exp - iat = ${decoded.exp - decoded.iat}`);
  }
});
