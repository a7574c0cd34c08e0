// Rooms and broadcasts across event loops: examples/bench_server with two loops, real
// socket.io-client peers over WebSocket. Subscribers join room "s"; a publisher (query pub=1)
// emits "pub" and every subscriber, on whichever loop, gets "m" exactly once; the publisher
// gets none.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until } from './helpers.mjs';

const T = 5000;
let server;
let url;
const clients = [];

before(async () => {
  assert.ok(process.env.BENCH_SERVER_BIN, 'BENCH_SERVER_BIN must name examples/bench_server');
  server = await startServer([], {
    bin: process.env.BENCH_SERVER_BIN,
    argv: ['--host', HOST, '--port', '0', '--threads', '2'],
  });
  assert.equal(server.threads, 2);
  url = `http://${HOST}:${server.port}`;
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
});

async function client(query = {}) {
  const c = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, query });
  clients.push(c);
  await onceEvent(c, 'connect', T, 'connect');
  return c;
}

test('a room broadcast reaches every member on every loop once, in order', async () => {
  const subs = await Promise.all(Array.from({ length: 12 }, () => client()));
  const pub = await client({ pub: '1' });
  const received = subs.map(() => []);
  subs.forEach((s, i) => s.on('m', (d) => received[i].push(d)));
  let pubGot = 0;
  pub.on('m', () => {
    pubGot += 1;
  });
  const N = 50;
  for (let i = 0; i < N; i += 1) pub.emit('pub', { i, text: `msg ${i}` });
  await until(() => received.every((r) => r.length >= N), T,
    'every subscriber to get every message');
  for (const r of received) {
    assert.deepEqual(r.map((d) => d.i), Array.from({ length: N }, (_, i) => i));
  }
  // Nothing more arrives (no duplicates), and the publisher (not in "s") got nothing.
  await new Promise((r) => setTimeout(r, 200));
  for (const r of received) assert.equal(r.length, N);
  assert.equal(pubGot, 0);
});

test('echo answers the sender only', async () => {
  const a = await client();
  const b = await client();
  let bGot = 0;
  b.on('echo', () => {
    bGot += 1;
  });
  const back = onceEvent(a, 'echo', T, 'echo');
  a.emit('echo', { hello: 'world', n: [1, 2] });
  assert.deepEqual(await back, [{ hello: 'world', n: [1, 2] }]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(bGot, 0);
});

test('a subscriber that disconnects leaves the room', async () => {
  const stay = await client();
  const leave = await client();
  const pub = await client({ pub: '1' });
  leave.disconnect();
  const got = onceEvent(stay, 'm', T, 'm after the other left');
  pub.emit('pub', 'after');
  assert.deepEqual(await got, ['after']);
});
