// `relay serve --config relay.toml`, RELAY_ variables and flags (each later source wins),
// `relay config check` naming the bad key and its line, `relay config example` round-tripping
// through check and documented key by key in docs/configuration.md, and `relay token --config`
// signing with the configured secret. Peers: the official socket.io-client and jsonwebtoken.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, RELAY_BIN, SOURCE_ROOT, onceEvent, startServer, stopServerCleanly } from
  './helpers.mjs';

const T = 5000;
const dir = mkdtempSync(join(tmpdir(), 'relay-config-'));
const servers = [];
const clients = [];

after(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await stopServerCleanly(s);
  rmSync(dir, { recursive: true, force: true });
});

function relay(args, env = {}) {
  return spawnSync(RELAY_BIN, args, { encoding: 'utf8', env: { ...process.env, ...env } });
}

function writeConfig(name, text) {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function serve(args, env) {
  const s = await startServer(args, { env });
  servers.push(s);
  return s;
}

function connect(server, nsp = '/', opts = {}) {
  const c = io(`http://${HOST}:${server.port}${nsp}`, { reconnection: false, forceNew: true,
                                                        transports: ['websocket'], ...opts });
  clients.push(c);
  return c;
}

// Resolves with the engine's handshake values once connected, or rejects with connect_error.
async function handshake(server, nsp = '/', opts = {}) {
  const c = connect(server, nsp, opts);
  const outcome = await Promise.race([
    onceEvent(c, 'connect', T).then(() => ({ ok: true })),
    onceEvent(c, 'connect_error', T).then(([e]) => ({ ok: false, message: e.message })),
  ]);
  const engine = c.io.engine;  // the values of the Engine.IO handshake, as the client took them
  c.disconnect();
  return { ...outcome, pingInterval: engine._pingInterval, pingTimeout: engine._pingTimeout };
}

describe('relay config', () => {
  test('example passes check, and docs/configuration.md documents every key it prints', () => {
    const example = relay(['config', 'example']);
    assert.equal(example.status, 0, example.stderr);
    const file = writeConfig('example.toml', example.stdout);
    const check = relay(['config', 'check', file]);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /: ok$/m);

    const docs = readFileSync(join(SOURCE_ROOT, 'docs', 'configuration.md'), 'utf8');
    let section = '';
    const keys = [];
    for (const line of example.stdout.split('\n')) {
      const header = /^\[(\w+)\]$/.exec(line);
      if (header) section = header[1];
      const key = /^(\w+) = /.exec(line);
      if (key) keys.push(`${section}.${key[1]}`);
    }
    assert.ok(keys.length > 30, `only ${keys.length} keys in the example`);
    const undocumented = keys.filter((k) => !docs.includes('`' + k + '`'));
    assert.deepEqual(undocumented, [], 'keys missing from docs/configuration.md');
  });

  test('check names each bad key with its line, and the closest real key', () => {
    const file = writeConfig('bad.toml', [
      '[server]',                       // 1
      'prot = 9000',                    // 2
      'threads = "many"',               // 3
      '',                               // 4
      '[socketio]',                     // 5
      'ping_interval = "25 parsecs"',   // 6
      '[jwt]',                          // 7
      'leeway = "1500ms"',              // 8
      '[namespaces."/live"]',           // 9
      'anonymus = true',                // 10
    ].join('\n'));
    const check = relay(['config', 'check', file]);
    assert.equal(check.status, 1);
    const lines = check.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      `${file}:2: unknown key 'server.prot' (did you mean 'server.port'?)`,
      `${file}:3: server.threads: expected an integer from 0 to 4294967295`,
      `${file}:6: socketio.ping_interval: expected a duration ("250ms", "30s", "5m", "1h", ` +
        'or a number of milliseconds) from 1 to 4294967295',
      `${file}:8: jwt.leeway: expected a whole number of seconds`,
      `${file}:10: unknown key 'namespaces."/live".anonymus'`,
    ]);

    const syntax = relay(['config', 'check', writeConfig('syntax.toml', '[server\nport = 1\n')]);
    assert.equal(syntax.status, 1);
    assert.match(syntax.stderr, /syntax\.toml:1:\d+: TOML syntax: /);
  });

  test('history.rooms tables: each key checked as its [history] namesake', () => {
    const file = writeConfig('rules.toml', [
      '[history.rooms."chat:*"]',   // 1
      'max_messages = 3',           // 2
      'max_age = "a while"',        // 3
      'max_mesages = 4',            // 4
    ].join('\n'));
    const check = relay(['config', 'check', file]);
    assert.equal(check.status, 1);
    assert.deepEqual(check.stderr.trim().split('\n'), [
      `${file}:3: history.rooms."chat:*".max_age: expected a duration ("250ms", "30s", "5m", ` +
        '"1h", or a number of milliseconds)',
      `${file}:4: unknown key 'history.rooms."chat:*".max_mesages' (max_messages, max_age, ` +
        'max_bytes)',
    ]);
  });

  test('serve refuses a bad file before listening, naming key and line', () => {
    const file = writeConfig('refused.toml', '[websocket]\nhigh_water = "lots"\n');
    const r = relay(['serve', '--config', file, '--port', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /refused\.toml:2: websocket\.high_water: expected a size/);
    assert.doesNotMatch(r.stdout, /listening on/);
  });
});

test('history limits per room pattern: the longest matching pattern wins', async () => {
  const file = writeConfig('history-rules.toml', [
    '[history]',
    'max_messages = 5',
    '[history.rooms."chat:*"]',
    'max_messages = 2',
    '[history.rooms."chat:vip:*"]',
    'max_messages = 4',
    '[namespaces."/live"]',
  ].join('\n'));
  const server = await serve(['--config', file]);
  const c = connect(server, '/live');
  await onceEvent(c, 'connect', T, 'connect');
  const kept = {};
  for (const room of ['chat:a', 'chat:vip:x', 'other']) {
    for (let i = 1; i <= 6; i++) await c.emitWithAck('publish', { room, data: i });
    const page = await c.emitWithAck('history', { room, since: 0 });
    kept[room] = page.messages.map((m) => m.data);
  }
  assert.deepEqual(kept, { 'chat:a': [5, 6], 'chat:vip:x': [3, 4, 5, 6], other: [2, 3, 4, 5, 6] });
});

describe('relay serve --config', () => {
  const file = writeConfig('relay.toml', [
    '[socketio]',
    'ping_interval = "7s"',
    'ping_timeout = "2s"',
  ].join('\n'));

  test('the file sets values, RELAY_ variables override it, flags override both', async () => {
    const fromFile = await serve(['--config', file]);
    assert.deepEqual(await handshake(fromFile),
      { ok: true, pingInterval: 7000, pingTimeout: 2000 });

    const env = { RELAY_SOCKETIO_PING_TIMEOUT: '3s' };
    const fromEnv = await serve(['--config', file], env);
    assert.deepEqual(await handshake(fromEnv), { ok: true, pingInterval: 7000, pingTimeout: 3000 });

    const fromFlag = await serve(['--config', file, '--ping-timeout', '4000',
      '--set', 'socketio.ping_interval=9s'], env);
    assert.deepEqual(await handshake(fromFlag),
      { ok: true, pingInterval: 9000, pingTimeout: 4000 });
  });

  test('RELAY_CONFIG names the file; a misspelt RELAY_ variable is named on stderr', async () => {
    const s = await serve([], { RELAY_CONFIG: file, RELAY_SOCKETIO_PING_INTERVL: '1s' });
    assert.deepEqual(await handshake(s), { ok: true, pingInterval: 7000, pingTimeout: 2000 });
    assert.match(s.output().stderr,
      /RELAY_SOCKETIO_PING_INTERVL is not a setting \(did you mean RELAY_SOCKETIO_PING_INTERVAL\?\)/);
  });

  test('JWT and namespaces from the file: anonymous access on one namespace only', async () => {
    const secret = 'configured secret';
    const conf = writeConfig('jwt.toml', [
      '[jwt]',
      `secret = "${secret}"`,
      '[namespaces."/public"]',
      'anonymous = true',
      'anonymous_publish = ["lobby"]',
      '[namespaces."/private"]',
    ].join('\n'));
    const s = await serve(['--config', conf]);

    assert.deepEqual((await handshake(s, '/')).message, 'token required');
    assert.deepEqual((await handshake(s, '/private')).message, 'token required');

    // The anonymous namespace is a rooms service: join and publish without a token.
    const anon = connect(s, '/public');
    await onceEvent(anon, 'connect', T);
    const { epoch, ...joined } = await anon.timeout(T).emitWithAck('join', 'lobby');
    assert.deepEqual([joined, typeof epoch], [{ ok: true, room: 'lobby', offset: 0 }, 'string']);
    const heard = onceEvent(anon, 'message', T);
    assert.deepEqual(await anon.timeout(T).emitWithAck('publish', { room: 'lobby', data: 'hi' }),
      { ok: true, offset: 1 });
    assert.deepEqual((await heard)[0], { room: 'lobby', data: 'hi', from: null, offset: 1 });
    assert.deepEqual(await anon.timeout(T).emitWithAck('publish', { room: 'news', data: 'x' }),
      { error: 'not allowed to publish in news' });
    anon.disconnect();

    // `relay token --config` signs with the file's secret; the server takes the token.
    const minted = relay(['token', '--config', conf, '--user', 'carol', '--rooms', 'chat:*']);
    assert.equal(minted.status, 0, minted.stderr);
    const token = minted.stdout.trim();
    assert.equal(jwt.verify(token, secret).sub, 'carol');
    assert.deepEqual(await handshake(s, '/private', { auth: { token } }),
      { ok: true, pingInterval: 25000, pingTimeout: 20000 });
  });
});
