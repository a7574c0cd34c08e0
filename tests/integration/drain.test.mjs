// Graceful drain of `relay serve` on SIGTERM, with socket.io-client and eventsource peers:
// /readyz turns 503 (healthz stays 200), new clients are refused with 503, the connected ones
// are closed spread over --drain-timeout as a normal transport close (so they reconnect
// elsewhere), every message accepted before SIGTERM reaches them first, and the process exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EventSource } from 'eventsource';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, until, withTimeout } from './helpers.mjs';

const T = 5000;
const CLIENTS = 20;
const MESSAGES = 50;

test('SIGTERM drains: nothing accepted is lost, closes are spread, readiness turns 503', async () => {
  const server = await startServer(['--rooms-namespace', '/live', '--api-key', 'k',
    '--drain-timeout', '2s', '--log-format', 'json']);
  const base = `http://${HOST}:${server.port}`;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = io(`${base}/live`, { reconnection: false, forceNew: true,
      transports: ['websocket'] });
    c.got = [];
    c.on('message', (m) => c.got.push(m.offset));
    c.closed = new Promise((resolve) => c.on('disconnect', (reason) =>
      resolve({ reason, at: Date.now(), received: c.got.length })));
    await onceEvent(c, 'connect', T);
    await withTimeout(c.emitWithAck('join', 'news'), T, 'join');
    clients.push(c);
  }
  const sse = new EventSource(`${base}/sse?rooms=news`);
  const sseGot = [];
  sse.addEventListener('message', (e) => sseGot.push(JSON.parse(e.data).offset));
  await withTimeout(new Promise((resolve) => { sse.onopen = resolve; }), T, 'sse open');
  assert.equal((await fetch(`${base}/readyz`)).status, 200);

  // Accepted (200) before SIGTERM: all of them must arrive.
  for (let i = 0; i < MESSAGES; i++) {
    const r = await fetch(`${base}/api/publish`, { method: 'POST',
      headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ room: 'news', data: i }) });
    assert.equal(r.status, 200);
  }
  const sigterm = Date.now();
  server.proc.kill('SIGTERM');
  sse.onerror = () => sse.close();  // no reconnect to the draining server

  await new Promise((r) => setTimeout(r, 50));  // the signal reaches the server
  const ready = await fetch(`${base}/readyz`);
  assert.deepEqual([ready.status, await ready.json()], [503, { status: 'draining' }]);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const handshake = await fetch(`${base}/socket.io/?EIO=4&transport=polling`);
  assert.equal(handshake.status, 503);
  assert.equal(handshake.headers.get('retry-after'), '1');

  const ends = await Promise.all(clients.map((c) => withTimeout(c.closed, T, 'drain close')));
  for (const end of ends) {
    assert.equal(end.reason, 'transport close', 'a close a client reconnects after');
    assert.equal(end.received, MESSAGES, 'every accepted message before the close');
  }
  const times = ends.map((e) => e.at - sigterm).sort((a, b) => a - b);
  assert.ok(times.at(-1) - times[0] >= 500,
    `closes spread over the drain, not at once (first ${times[0]} ms, last ${times.at(-1)} ms)`);
  assert.ok(times.at(-1) <= 4000, `all closed within the drain (last at ${times.at(-1)} ms)`);
  await until(() => sseGot.length === MESSAGES, T, 'SSE got every message');

  const exit = await server.stop({ timeoutMs: 8000 });
  assert.equal(exit.code, 0, exit.stderr);
  assert.match(exit.stdout, /draining \d+ connections over 2000 ms/);
  // Structured logs on stderr: one JSON object per line.
  const logs = exit.stderr.trim().split('\n').map((l) => JSON.parse(l));
  const byMsg = new Map(logs.map((l) => [l.msg, l]));
  assert.deepEqual([byMsg.get('listening').port, byMsg.get('listening').level],
    [server.port, 'info']);
  assert.equal(byMsg.get('draining').connections, CLIENTS + 1);
  assert.equal(byMsg.get('drained').connections_left, 0);
  assert.match(byMsg.get('stopping').ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('a polling client that went away does not hold the drain until its ping timeout', async () => {
  const server = await startServer(['--drain-timeout', '30s']);
  const base = `http://${HOST}:${server.port}/socket.io/?EIO=4&transport=polling`;
  // An Engine.IO session that joined "/" and then never polled again.
  const open = await (await fetch(base)).text();
  const sid = JSON.parse(open.slice(1)).sid;
  assert.equal((await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40' })).status, 200);
  const sigterm = Date.now();
  const exit = await server.stop({ timeoutMs: 8000 });
  assert.equal(exit.code, 0, exit.stderr);
  assert.ok(Date.now() - sigterm < 6000, `exited ${Date.now() - sigterm} ms after SIGTERM`);
});
