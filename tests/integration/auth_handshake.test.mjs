// JWT at the Socket.IO handshake of `relay serve` (--jwt-secret / --jwt-public-key), with the
// official socket.io-client and tokens signed by npm jsonwebtoken: the token may come in the
// `auth` payload, an Authorization: Bearer header or a cookie; a refusal is a connect_error
// whose message says why; the demo chat then knows the user from the token's "sub".
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import http from 'node:http';

import { HOST, WebSocket, onceEvent, startServer, stopServerCleanly } from './helpers.mjs';

const T = 5000;
const SECRET = 'handshake test secret';
const dir = mkdtempSync(join(tmpdir(), 'relay-auth-'));
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));

let strict;     // --jwt-secret, --jwt-public-key
let lenient;    // plus --jwt-allow-query --allow-anonymous
let brief;      // --jwt-expiry-warning 1, --max-connections-per-user 2
let guarded;    // --allowed-origin http://good.example (no JWT)
const clients = [];

before(async () => {
  const keys = ['--jwt-secret', SECRET, '--jwt-public-key', join(dir, 'ec.pem')];
  strict = await startServer(keys);
  lenient = await startServer([...keys, '--jwt-allow-query', '--allow-anonymous']);
  brief = await startServer([...keys, '--jwt-expiry-warning', '1',
    '--max-connections-per-user', '2']);
  guarded = await startServer(['--allowed-origin', 'http://good.example']);
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(strict);
  await stopServerCleanly(lenient);
  await stopServerCleanly(brief);
  await stopServerCleanly(guarded);
  rmSync(dir, { recursive: true, force: true });
});

const good = (sub = 'alice') => jwt.sign({ sub }, SECRET, { expiresIn: '10m' });

// Resolves with ['welcome', data] or ['connect_error', {message, data}].
function attempt(server, opts) {
  const c = io(`http://${HOST}:${server.port}/`, { reconnection: false, forceNew: true, ...opts });
  clients.push(c);
  return Promise.race([
    onceEvent(c, 'welcome', T, 'welcome').then(([w]) => ['welcome', w]),
    onceEvent(c, 'connect_error', T, 'connect_error').then(([e]) =>
      ['connect_error', { message: e.message, data: e.data }]),
  ]).finally(() => c.disconnect());
}

for (const transports of [['websocket'], ['polling']]) {
  describe(`over ${transports[0]}`, () => {
    test('a valid token in auth connects, and the app sees its user', async () => {
      const [what, w] = await attempt(strict, { transports, auth: { token: good('alice') } });
      assert.equal(what, 'welcome');
      assert.equal(w.name, 'alice');
    });

    test('Authorization: Bearer and the cookie carry it too', async () => {
      const bearer = await attempt(strict,
        { transports, extraHeaders: { Authorization: `Bearer ${good('bea')}` } });
      assert.deepEqual([bearer[0], bearer[1].name], ['welcome', 'bea']);
      const cookie = await attempt(strict,
        { transports, extraHeaders: { Cookie: `other=1; relay_token=${good('coo')}` } });
      assert.deepEqual([cookie[0], cookie[1].name], ['welcome', 'coo']);
    });

    test('refusals say why', async () => {
      const cases = [
        [{}, 'token required', 'token_required'],
        [{ auth: { token: jwt.sign({ sub: 'x' }, SECRET, { expiresIn: -60 }) } },
          'token expired', 'expired'],
        [{ auth: { token: jwt.sign({ sub: 'x' }, 'other', { expiresIn: '1m' }) } },
          'invalid token signature', 'bad_signature'],
        [{ auth: { token: 'not.a.token' } }, 'malformed token', 'malformed'],
        [{ query: { token: good() } }, 'token in query string not allowed', 'token_in_query'],
      ];
      for (const [opts, message, code] of cases) {
        const [what, e] = await attempt(strict, { transports, ...opts });
        assert.equal(what, 'connect_error', JSON.stringify(opts));
        assert.deepEqual(e, { message, data: { code } }, JSON.stringify(opts));
      }
    });
  });
}

test('ES256 tokens verify with --jwt-public-key', async () => {
  const token = jwt.sign({ sub: 'eve' }, ec.privateKey, { algorithm: 'ES256', expiresIn: '5m' });
  const [what, w] = await attempt(strict, { transports: ['websocket'], auth: { token } });
  assert.deepEqual([what, w.name], ['welcome', 'eve']);
});

test('--allow-anonymous admits no token but not a bad one; --jwt-allow-query takes ?token=',
  async () => {
    const [anon, w] = await attempt(lenient, { transports: ['websocket'] });
    assert.equal(anon, 'welcome');
    assert.match(w.name, /^guest-/);
    const [bad, e] = await attempt(lenient,
      { transports: ['websocket'], auth: { token: jwt.sign({}, 'other', { expiresIn: 60 }) } });
    assert.deepEqual([bad, e.message], ['connect_error', 'invalid token signature']);
    const [viaQuery, q] = await attempt(lenient,
      { transports: ['websocket'], query: { token: good('quinn') } });
    assert.deepEqual([viaQuery, q.name], ['welcome', 'quinn']);
  });

// Tokens expire on live connections: token:expiring ahead of exp, then token:expired and a
// server disconnect, unless the client sent a fresh token for the same user (token:refresh).
describe('token expiry on a live connection', () => {
  const live = async (sub, seconds) => {
    const token = jwt.sign({ sub }, SECRET, { expiresIn: seconds });
    const c = io(`http://${HOST}:${brief.port}/`,
      { reconnection: false, forceNew: true, transports: ['websocket'], auth: { token } });
    clients.push(c);
    await onceEvent(c, 'welcome', T, 'welcome');
    return c;
  };

  test('without a fresh token the socket is told and disconnected at exp', async () => {
    const c = await live('ivy', 3);
    const started = Date.now();
    const [{ exp }] = await onceEvent(c, 'token:expiring', T, 'token:expiring');
    assert.equal(typeof exp, 'number');
    const expired = onceEvent(c, 'token:expired', T, 'token:expired');
    const [reason] = await onceEvent(c, 'disconnect', T, 'disconnect');
    await expired;
    assert.equal(reason, 'io server disconnect');
    assert.ok(Date.now() >= exp * 1000 - 50, 'not before exp');
    assert.ok(Date.now() - started < 4500, 'at exp, not much later');
  });

  test('a fresh token for the same user keeps it connected; another user\'s is refused',
    async () => {
      const c = await live('jay', 3);
      await onceEvent(c, 'token:expiring', T, 'token:expiring');
      const other = jwt.sign({ sub: 'kim' }, SECRET, { expiresIn: 60 });
      assert.deepEqual(await c.timeout(T).emitWithAck('token:refresh', other),
        { error: 'token for another user' });
      const expired = jwt.sign({ sub: 'jay' }, SECRET, { expiresIn: -60 });
      assert.deepEqual(await c.timeout(T).emitWithAck('token:refresh', expired),
        { error: 'token expired' });
      const fresh = jwt.sign({ sub: 'jay' }, SECRET, { expiresIn: 60 });
      const answer = await c.timeout(T).emitWithAck('token:refresh', fresh);
      assert.equal(answer.ok, true);
      assert.equal(answer.exp, jwt.decode(fresh).exp);
      await new Promise((r) => setTimeout(r, 3000));  // past the first token's exp
      assert.equal(c.connected, true, 'still connected on the fresh token');
    });
});

test('a user holds at most --max-connections-per-user sockets (counted over all loops)', async () => {
  const token = jwt.sign({ sub: 'max' }, SECRET, { expiresIn: '5m' });
  const opts = { transports: ['websocket'], auth: { token } };
  const open = async () => {
    const c = io(`http://${HOST}:${brief.port}/`, { reconnection: false, forceNew: true, ...opts });
    clients.push(c);
    return Promise.race([
      onceEvent(c, 'welcome', T, 'welcome').then(() => c),
      onceEvent(c, 'connect_error', T, 'connect_error').then(([e]) => e),
    ]);
  };
  const first = await open();
  const second = await open();
  assert.equal(first.connected && second.connected, true);
  const third = await open();
  assert.deepEqual([third.message, third.data], ['too many connections for this user',
    { code: 'too_many_connections' }]);
  const [ok] = await attempt(brief, { transports: ['websocket'],
    auth: { token: jwt.sign({ sub: 'someone-else' }, SECRET, { expiresIn: '5m' }) } });
  assert.equal(ok, 'welcome', 'other users are not affected');
  first.disconnect();
  // The slot comes back once the server has seen the disconnect.
  const end = Date.now() + T;
  let again;
  do {
    again = await open();
    if (again.connected) break;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < end);
  assert.equal(again.connected, true, 'a slot after a disconnect');
  second.disconnect();
  again.disconnect();
});

// --allowed-origin: browsers of other origins are refused, WebSocket upgrades included (which
// CORS does not cover); clients that send no Origin pass.
test('--allowed-origin refuses other browser origins with 403, WebSocket included', async () => {
  const url = `ws://${HOST}:${guarded.port}/socket.io/?EIO=4&transport=websocket`;
  const upgrade = (headers) => new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.on('error', () => {});
  });
  assert.equal(await upgrade({ Origin: 'http://evil.example' }), 403);
  assert.equal(await upgrade({ Origin: 'http://good.example' }), 'open');
  assert.equal(await upgrade({}), 'open');
  const poll = await new Promise((resolve, reject) => {
    http.get(`http://${HOST}:${guarded.port}/socket.io/?EIO=4&transport=polling`,
      { headers: { Origin: 'http://evil.example' } }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
  });
  assert.deepEqual([poll.status, JSON.parse(poll.body)], [403, { code: 4, message: 'Forbidden' }]);
  const [what] = await attempt(guarded,
    { transports: ['websocket'], extraHeaders: { Origin: 'http://good.example' } });
  assert.equal(what, 'welcome');
  const [refused, e] = await attempt(guarded,
    { transports: ['polling'], extraHeaders: { Origin: 'http://evil.example' } });
  assert.equal(refused, 'connect_error');
  assert.match(e.message, /xhr poll error|403/);
});

test('a JWK Set file: RSA, EC and oct keys picked by kid; other keys skipped', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const hmac = 'jwks oct secret';
  const jwk = (key, extra) => ({ ...key.export({ format: 'jwk' }), ...extra });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [
    jwk(rsa.publicKey, { kid: 'rsa-1', use: 'sig', alg: 'RS256' }),
    jwk(p256.publicKey, { kid: 'ec-1' }),
    jwk(ed.publicKey, { kid: 'ed-1' }),                         // EdDSA: skipped
    jwk(rsa.publicKey, { kid: 'enc-1', use: 'enc' }),           // not for signatures: skipped
    { kty: 'oct', kid: 'oct-1', k: Buffer.from(hmac).toString('base64url') },
  ] }));
  const server = await startServer(['--jwt-jwks-file', join(dir, 'jwks.json')]);
  try {
    const sign = (key, algorithm, keyid, sub) =>
      jwt.sign({ sub }, key, { algorithm, keyid, expiresIn: '5m' });
    const outcome = async (token) => {
      const [what, data] = await attempt(server, { auth: { token } });
      return what === 'welcome' ? `welcome ${data.user ?? data.name ?? ''}`.trim()
                                : `${data.message} (${data.data?.code})`;
    };
    assert.match(await outcome(sign(rsa.privateKey, 'RS256', 'rsa-1', 'rita')), /^welcome/);
    assert.match(await outcome(sign(p256.privateKey, 'ES256', 'ec-1', 'eve')), /^welcome/);
    assert.match(await outcome(sign(hmac, 'HS256', 'oct-1', 'otto')), /^welcome/);
    assert.equal(await outcome(sign(rsa.privateKey, 'RS256', 'enc-1', 'x')),
      'token key unknown (unknown_key)');
    assert.equal(await outcome(sign(rsa.privateKey, 'RS256', 'nobody', 'x')),
      'token key unknown (unknown_key)');
    // Algorithm confusion through a JWKS: the RSA key's JSON as an HMAC secret.
    const forged = sign(JSON.stringify(jwk(rsa.publicKey, {})), 'HS256', 'rsa-1', 'mallory');
    assert.match(await outcome(forged), /\((unsupported_alg|bad_signature)\)$/);
  } finally {
    await stopServerCleanly(server);
  }
});
