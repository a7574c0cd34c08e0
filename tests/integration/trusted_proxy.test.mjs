// server.trusted_proxies with a real reverse proxy (Debian haproxy, `option forwardfor`):
// behind it every connection comes from the proxy, and the per-IP connection rate limit must
// count the clients it names in X-Forwarded-For instead. The official socket.io-client
// connects from different loopback addresses (127.0.0.2, 127.0.0.3: Linux routes 127/8 to lo).
// A client that talks to relay directly cannot forge the header: only trusted peers are believed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly } from './helpers.mjs';

const T = 5000;
let relay;
let proxy;
let proxyPort;
let dir;
const clients = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, HOST);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

before(async () => {
  const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  assert.equal(haproxy.error, undefined, 'haproxy must be installed (Debian haproxy)');
  relay = await startServer(['--trusted-proxy', '127.0.0.1',
    '--set', 'limits.connections_per_ip_per_second=1', '--set', 'limits.connection_burst_per_ip=1']);
  proxyPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'relay-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, [
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout tunnel 30s',
    'frontend in',
    `  bind ${HOST}:${proxyPort}`,
    '  option forwardfor',
    '  default_backend relay',
    'backend relay',
    `  server r1 ${HOST}:${relay.port}`,
    '',
  ].join('\n'));
  proxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  // until() takes a synchronous predicate: poll the port here.
  const deadline = Date.now() + T;
  while (!(await portOpen(proxyPort))) {
    assert.ok(Date.now() < deadline, 'haproxy listening');
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(async () => {
  for (const c of clients) c.disconnect();
  if (proxy) {
    proxy.kill('SIGTERM');
    await new Promise((r) => (proxy.exitCode !== null ? r() : proxy.once('exit', r)));
  }
  await stopServerCleanly(relay);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Resolves with 'connect' or the connect_error's message.
async function attempt(port, localAddress, extraHeaders = {}) {
  const c = io(`http://${HOST}:${port}`, {
    forceNew: true, reconnection: false, transports: ['websocket'], localAddress, extraHeaders,
  });
  clients.push(c);
  return Promise.race([
    onceEvent(c, 'connect', T).then(() => 'connect'),
    onceEvent(c, 'connect_error', T).then(([e]) => e.message),
  ]);
}

test('behind a trusted proxy, each client named in X-Forwarded-For has its own limit', async () => {
  assert.equal(await attempt(proxyPort, '127.0.0.2'), 'connect');
  assert.notEqual(await attempt(proxyPort, '127.0.0.2'), 'connect', 'a second at once: 429');
  // Another client behind the same proxy is not held back by the first.
  assert.equal(await attempt(proxyPort, '127.0.0.3'), 'connect');
});

test('a client talking to relay directly cannot forge X-Forwarded-For', async () => {
  assert.equal(await attempt(relay.port, '127.0.0.4', { 'X-Forwarded-For': '198.51.100.1' }),
    'connect');
  // Another forged address from the same peer: still counted as 127.0.0.4.
  assert.notEqual(await attempt(relay.port, '127.0.0.4', { 'X-Forwarded-For': '198.51.100.2' }),
    'connect');
});
