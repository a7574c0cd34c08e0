// Per-connection limits of `relay serve`, with the official socket.io-client: an event rate
// (token bucket), an inbound byte rate, and rooms per connection. A limit hit is a clear error
// to that client (relay:error {code: "rate_limited"}, or the join's error ack), a metric, and
// never a problem for anyone else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until, withTimeout } from
  './helpers.mjs';

const T = 5000;
let server;
let bytesServer;
const clients = [];

before(async () => {
  server = await startServer(['--rooms-namespace', '/live', '--max-events-per-second', '10',
    '--set', 'limits.event_burst=5']);
  bytesServer = await startServer(['--rooms-namespace', '/live',
    '--set', 'limits.bytes_per_second=1000', '--set', 'limits.max_rooms_per_connection=3']);
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
  await stopServerCleanly(bytesServer);
});

async function client(srv) {
  const c = io(`http://${HOST}:${srv.port}/live`,
    { reconnection: false, forceNew: true, transports: ['websocket'] });
  clients.push(c);
  await onceEvent(c, 'connect', T);
  c.errors = [];
  c.on('relay:error', (e) => c.errors.push(e));
  c.inbox = [];
  c.on('message', (m) => c.inbox.push(m.data));
  return c;
}

const ask = (c, ...args) => withTimeout(c.emitWithAck(...args), T, `ack of ${args[0]}`);
const metric = async (srv, name) => {
  const text = await (await fetch(`http://${HOST}:${srv.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : 0;
};

test('events over the rate are dropped, the sender is told, others are untouched', async () => {
  const reader = await client(server);
  const flooder = await client(server);
  const calm = await client(server);
  await ask(reader, 'join', 'r');
  // join acks spent 1 token each of reader's own bucket only; the flooder starts full (5).
  const started = Date.now();
  for (let i = 0; i < 30; i++) flooder.emit('publish', { room: 'r', data: `f${i}` });
  await until(() => flooder.errors.length >= 1, T, 'relay:error to the flooder');
  assert.deepEqual([flooder.errors[0].code, flooder.errors[0].event], ['rate_limited', 'publish']);
  assert.match(flooder.errors[0].error, /at most 10 events\/s \(burst 5\)/);
  // Another connection is not limited by the flooder.
  assert.equal((await ask(calm, 'publish', { room: 'r', data: 'calm' })).ok, true);
  await until(() => reader.inbox.includes('calm'), T, 'calm message');
  // The burst (5), plus what 10/s refilled while the flood was arriving (a slow machine takes
  // longer: the bound grows with the time it took).
  const allowed = 5 + Math.ceil((Date.now() - started) / 100) + 1;
  const fromFlooder = reader.inbox.filter((d) => d.startsWith('f'));
  assert.ok(fromFlooder.length >= 5 && fromFlooder.length <= allowed,
    `${fromFlooder.length} of 30 flooded events passed (at most ${allowed})`);
  assert.equal(flooder.errors.length, 1, 'told once, not once per dropped event');
  assert.ok(await metric(server, 'relay_limit_hits_total{kind="event_rate"}') >= 23);
  // The bucket refills: a second later the flooder may publish again.
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await ask(flooder, 'publish', { room: 'r', data: 'later' })).ok, true);
});

test('rooms per connection: the fourth join is refused until one is left', async () => {
  const c = await client(bytesServer);
  for (const room of ['a', 'b', 'c']) assert.equal((await ask(c, 'join', room)).ok, true);
  assert.equal((await ask(c, 'join', 'a')).ok, true, 'joining a room again is free');
  assert.deepEqual(await ask(c, 'join', 'd'),
    { error: 'too many rooms: at most 3 per connection' });
  assert.deepEqual(await ask(c, 'leave', 'b'), { ok: true, room: 'b' });
  assert.equal((await ask(c, 'join', 'd')).ok, true);
  assert.equal(await metric(bytesServer, 'relay_limit_hits_total{kind="rooms_per_connection"}'),
    1);
});

test('bytes over the rate: a large event is dropped, small ones pass again later', async () => {
  const c = await client(bytesServer);
  const reader = await client(bytesServer);
  await ask(reader, 'join', 'big');
  c.emit('publish', { room: 'big', data: 'x'.repeat(3000) });  // 3 KB > the 2 KB burst
  await until(() => c.errors.length === 1, T, 'relay:error');
  assert.match(c.errors[0].error, /at most 1000 bytes\/s/);
  await new Promise((r) => setTimeout(r, 1500));  // the debt (about 1 KB) is paid back
  assert.equal((await ask(c, 'publish', { room: 'big', data: 'small' })).ok, true);
  await until(() => reader.inbox.length === 1, T, 'the small one');
  assert.deepEqual(reader.inbox, ['small']);
  assert.equal(await metric(bytesServer, 'relay_limit_hits_total{kind="byte_rate"}'), 1);
});
