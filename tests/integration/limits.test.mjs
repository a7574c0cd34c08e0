// Per-connection limits of `relay serve`, with the official socket.io-client: an event rate
// (token bucket), an inbound byte rate, and rooms per connection. A limit hit is a clear error
// to that client (relay:error {code: "rate_limited"}, or the join's error ack), a metric, and
// never a problem for anyone else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { io } from 'socket.io-client';

import { HOST, WebSocket, onceEvent, startServer, stopServerCleanly, until, withTimeout } from
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

test('a Socket.IO client that stops reading is closed past max_buffered_bytes, logged, counted',
  async () => {
    const srv = await startServer(['--rooms-namespace', '/live', '--api-key', 'k',
      '--max-buffered-bytes', '65536', '--log-format', 'json']);
    try {
      // A raw Engine.IO WebSocket (npm ws) whose reading we can stop.
      const ws = new WebSocket(`ws://${HOST}:${srv.port}/socket.io/?EIO=4&transport=websocket`);
      const frames = [];
      ws.on('message', (d) => frames.push(String(d)));
      await onceEvent(ws, 'open', T);
      ws.send('40/live,');
      await until(() => frames.some((f) => f.startsWith('40/live,')), T, 'namespace connect');
      ws.send('42/live,0["join","firehose"]');
      await until(() => frames.some((f) => f.startsWith('43/live,0')), T, 'join ack');
      const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
      ws._socket.pause();  // stop reading: the kernel buffers fill, then the server's queue
      const big = 'x'.repeat(60_000);
      for (let i = 0; i < 400; i++) {
        const r = await fetch(`http://${HOST}:${srv.port}/api/publish`, { method: 'POST',
          headers: { Authorization: 'Bearer k' },
          body: JSON.stringify({ room: 'firehose', data: big }) });
        assert.equal(r.status, 200);
        if (i % 20 === 0 && (await slowCount(srv)) > 0) break;
      }
      const end = Date.now() + T;
      while ((await slowCount(srv)) < 1) {
        assert.ok(Date.now() < end, 'relay_slow_consumer_disconnects_total counts it');
        await new Promise((r) => setTimeout(r, 50));
      }
      ws._socket.resume();
      assert.equal(await withTimeout(closed, T, 'close'), 1008);  // policy violation
      const logged = srv.output().stderr.split('\n').filter((l) => l.includes('slow consumer'));
      assert.ok(logged.length >= 1, srv.output().stderr);
      const line = JSON.parse(logged[0]);
      assert.deepEqual([line.level, line.msg, line.transport, line.limit_bytes],
        ['warn', 'slow consumer closed', 'websocket', 65536]);
      // The server still serves others.
      const c = await client(srv);
      assert.equal((await ask(c, 'join', 'after')).ok, true);
    } finally {
      await stopServerCleanly(srv);
    }
  });

async function slowCount(srv) {
  return metric(srv, 'relay_slow_consumer_disconnects_total');
}

test('new sessions per client address, and sessions per server, are capped', async () => {
  const perIp = await startServer(['--set', 'limits.connections_per_ip_per_second=1',
    '--set', 'limits.connection_burst_per_ip=3']);
  const full = await startServer(['--max-connections', '2']);
  try {
    const handshake = (srv) => fetch(
      `http://${HOST}:${srv.port}/socket.io/?EIO=4&transport=polling`);
    for (let i = 0; i < 3; i++) assert.equal((await handshake(perIp)).status, 200);
    const refused = await handshake(perIp);
    assert.deepEqual([refused.status, refused.headers.get('retry-after'), await refused.json()],
      [429, '1', { code: 4, message: 'Too many connections' }]);
    await new Promise((r) => setTimeout(r, 1100));  // one more token
    assert.equal((await handshake(perIp)).status, 200);
    assert.equal(await metric(perIp, 'relay_limit_hits_total{kind="connections_per_ip"}'), 1);

    const a = io(`http://${HOST}:${full.port}/`, { reconnection: false, forceNew: true });
    const b = io(`http://${HOST}:${full.port}/`, { reconnection: false, forceNew: true });
    clients.push(a, b);
    // Both listeners first: b may connect while a's connect is awaited.
    await Promise.all([onceEvent(a, 'connect', T), onceEvent(b, 'connect', T)]);
    const third = await handshake(full);
    assert.deepEqual([third.status, (await third.json()).message], [503, 'Server full']);
    a.disconnect();
    const end = Date.now() + T;
    while ((await handshake(full)).status !== 200) {
      assert.ok(Date.now() < end, 'a slot frees when a client leaves');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(await metric(full, 'relay_limit_hits_total{kind="max_connections"}') >= 1);
  } finally {
    await stopServerCleanly(perIp);
    await stopServerCleanly(full);
  }
});

test('an event nested deeper than limits.max_json_depth closes only that connection', async () => {
  const srv = await startServer(['--rooms-namespace', '/live', '--set', 'limits.max_json_depth=8']);
  try {
    const nested = (depth) => (depth === 0 ? 'x' : [nested(depth - 1)]);
    const deep = await client(srv);
    const calm = await client(srv);
    await ask(calm, 'join', 'r');
    // [event, {room, data: 5 levels}] is 7 deep: accepted.
    assert.equal((await ask(deep, 'publish', { room: 'r', data: nested(5) })).ok, true);
    const gone = onceEvent(deep, 'disconnect', T);
    deep.emit('publish', { room: 'r', data: nested(20) });
    assert.equal((await gone)[0], 'transport close');  // Node's "parse error": the server closes
    assert.equal((await ask(calm, 'publish', { room: 'r', data: 'still here' })).ok, true);
  } finally {
    await stopServerCleanly(srv);
  }
});
