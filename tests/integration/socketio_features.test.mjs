// Socket.IO features beyond the conformance app, with the official socket.io-client against
// tests/support/sio_feature_server (public C++ API, two loops): middleware refusals with data,
// acks asked by the server (answered and timed out), disconnect reasons on both sides, rooms
// (several targets, except, leave) and the server-side utilities socketsJoin and
// disconnectSockets. Each case runs over WebSocket and over long-polling.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';

import { io } from 'socket.io-client';

import {
  HOST, WebSocket, messageQueue, onceEvent, startServer, stopServerCleanly, withTimeout,
} from './helpers.mjs';

const T = 5000;
let server;
let base;
const clients = [];

before(async () => {
  assert.ok(process.env.SIO_FEATURE_SERVER_BIN, 'SIO_FEATURE_SERVER_BIN must be set');
  server = await startServer([], {
    bin: process.env.SIO_FEATURE_SERVER_BIN,
    argv: ['--port', '0', '--threads', '2'],
  });
  base = `http://${HOST}:${server.port}`;
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
});

function raw(nsp, opts) {
  const c = io(base + nsp, { reconnection: false, forceNew: true, ...opts });
  clients.push(c);
  return c;
}

async function client(opts, nsp = '/') {
  const c = raw(nsp, opts);
  await onceEvent(c, 'connect', T, 'connect');
  return c;
}

// Resolves with the events' arguments collected for `ms` (for "nothing else arrives" checks).
function collect(c, event, ms) {
  const got = [];
  const on = (...a) => got.push(a);
  c.on(event, on);
  return new Promise((resolve) => setTimeout(() => {
    c.off(event, on);
    resolve(got);
  }, ms));
}

for (const [name, opts] of Object.entries({
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'] },
})) {
  describe(`over ${name}`, () => {
    test('a middleware refusal reaches the client with its message and data', async () => {
      const c = raw('/', { ...opts, auth: { token: 'reject' } });
      const [err] = await onceEvent(c, 'connect_error', T, 'connect_error');
      assert.equal(err.message, 'not authorized');
      assert.deepEqual(err.data, { code: 401 });
      assert.equal(c.connected, false);

      const admin = raw('/admin', opts);
      const [err2] = await onceEvent(admin, 'connect_error', T, 'connect_error on /admin');
      assert.equal(err2.message, 'admins only');
      assert.equal(err2.data, undefined);
    });

    test('the server asks, the client answers (server-side ack)', async () => {
      const c = await client(opts);
      c.on('question', (x, cb) => cb({ doubled: x * 2 }, 'extra'));
      const answer = onceEvent(c, 'answer', T, 'answer');
      c.emit('ask', 21);
      assert.deepEqual(await answer, [{ doubled: 42 }, 'extra']);
    });

    test('a server-side ack times out when the client stays silent', async () => {
      const c = await client(opts);
      c.on('question', () => {});  // no callback call
      const timeout = onceEvent(c, 'answer-timeout', T, 'answer-timeout');
      c.emit('ask', 1, 200);
      assert.deepEqual(await timeout, ['operation has timed out']);
    });

    test('disconnect reasons: server namespace disconnect, client namespace disconnect', async () => {
      const observer = await client(opts);
      await observer.emitWithAck('join', 'observers');

      const kicked = await client(opts);
      const kickedId = kicked.id;
      const gone = onceEvent(observer, 'gone', T, 'gone (kick)');
      const clientSide = onceEvent(kicked, 'disconnect', T, 'disconnect (kick)');
      kicked.emit('kick');
      assert.deepEqual(await clientSide, ['io server disconnect', undefined]);
      assert.deepEqual(await gone, [{ id: kickedId, reason: 'server namespace disconnect' }]);

      const leaver = await client(opts);
      const leaverId = leaver.id;
      const gone2 = onceEvent(observer, 'gone', T, 'gone (leave)');
      leaver.disconnect();
      assert.deepEqual(await gone2, [{ id: leaverId, reason: 'client namespace disconnect' }]);
    });

    test('disconnect reason: transport close when the connection drops', async () => {
      const observer = await client(opts);
      await observer.emitWithAck('join', 'observers');
      const dropper = await client(opts);
      const id = dropper.id;
      const gone = onceEvent(observer, 'gone', T, 'gone (transport close)');
      dropper.io.engine.close();  // the Engine.IO connection, without a Socket.IO DISCONNECT
      assert.deepEqual(await gone, [{ id, reason: 'transport close' }]);
    });

    test('to() several rooms reaches each member once; except() and the sender are left out',
      async () => {
        const sender = await client(opts);
        const [a, b, ab, x] = await Promise.all([1, 2, 3, 4].map(() => client(opts)));
        await a.emitWithAck('join', 'A');
        await b.emitWithAck('join', 'B');
        await ab.emitWithAck('join', 'A');
        await ab.emitWithAck('join', 'B');
        await x.emitWithAck('join', 'A');
        await x.emitWithAck('join', 'X');
        await sender.emitWithAck('join', 'A');

        const seen = [a, b, ab, x, sender].map((c) => collect(c, 'relayed', 400));
        await sender.emitWithAck('to', ['A', 'B'], ['X'], { n: 1 });
        const [ga, gb, gab, gx, gs] = await Promise.all(seen);
        assert.deepEqual(ga, [[{ n: 1 }]]);
        assert.deepEqual(gb, [[{ n: 1 }]]);
        assert.deepEqual(gab, [[{ n: 1 }]], 'a member of both rooms gets it once');
        assert.deepEqual(gx, [], 'except(X)');
        assert.deepEqual(gs, [], 'the sender');
      });

    test('leave() stops room delivery; rooms() lists the own id room first', async () => {
      const c = await client(opts);
      const rooms = await c.emitWithAck('join', 'R');
      assert.deepEqual(rooms, [c.id, 'R']);
      await c.emitWithAck('leave', 'R');
      const sender = await client(opts);
      const seen = collect(c, 'relayed', 300);
      await sender.emitWithAck('to', ['R'], [], 'x');
      assert.deepEqual(await seen, []);
    });

    test('server-side socketsJoin and disconnectSockets act on every matching socket', async () => {
      const members = await Promise.all([1, 2, 3].map(() => client(opts)));
      const tag = `S${name}`;
      for (const m of members) await m.emitWithAck('join', tag);
      const admin = await client(opts);
      await admin.emitWithAck('sockets-join', tag, `${tag}-2`);
      const seen = members.map((m) => onceEvent(m, 'relayed', T, 'relayed to the joined room'));
      await admin.emitWithAck('to', [`${tag}-2`], [], 'joined');
      for (const s of await Promise.all(seen)) assert.deepEqual(s, ['joined']);

      const reasons = members.map((m) => onceEvent(m, 'disconnect', T, 'disconnectSockets'));
      admin.emit('disconnect-room', tag);
      for (const r of await Promise.all(reasons)) assert.equal(r[0], 'io server disconnect');
      assert.equal(admin.connected, true);
    });

    test('the handshake keeps the request headers and query for the socket', async () => {
      const c = await client({ ...opts, extraHeaders: { 'X-Relay-Test': `js ${name}` },
        query: { room: 'a b' } });
      const me = await c.emitWithAck('whoami');
      assert.equal(me.id, c.id);
      assert.equal(me.header, `js ${name}`);
      const q = new URLSearchParams(me.query);
      assert.equal(q.get('EIO'), '4');
      assert.equal(q.get('room'), 'a b');
      assert.equal(q.get('transport'), name);
    });

    test('broadcast acks: every member answers once, from both loops', async () => {
      const tag = `quiz-${name}`;
      const members = await Promise.all([1, 2, 3, 4].map(() => client(opts)));
      members.forEach((m, i) => m.on('question', (q, cb) => cb({ who: i, q })));
      for (const m of members) await m.emitWithAck('join', tag);
      const asker = await client(opts);
      const { err, responses } = await withTimeout(
        asker.emitWithAck('ask-room', tag, 3000, 'why?'), T, 'ask-room ack');
      assert.equal(err, null);
      responses.sort((x, y) => x.who - y.who);
      assert.deepEqual(responses, [0, 1, 2, 3].map((who) => ({ who, q: 'why?' })));
    });

    test('broadcast acks: a silent member makes it time out with the replies that came',
      async () => {
        const tag = `quiz2-${name}`;
        const [talker, mute] = await Promise.all([1, 2].map(() => client(opts)));
        talker.on('question', (q, cb) => cb('here'));
        mute.on('question', () => {});
        await talker.emitWithAck('join', tag);
        await mute.emitWithAck('join', tag);
        const started = Date.now();
        const { err, responses } = await withTimeout(
          talker.emitWithAck('ask-room', tag, 300, 'q'), T, 'ask-room ack');
        assert.equal(err, 'operation has timed out');
        assert.deepEqual(responses, ['here']);
        assert.ok(Date.now() - started >= 250, 'not before the deadline');
      });

    test('broadcast acks: no member at all answers at once with no replies', async () => {
      const asker = await client(opts);
      const { err, responses } = await withTimeout(
        asker.emitWithAck('ask-room', `empty-${name}`, 3000, 'q'), 1000, 'ask-room ack');
      assert.equal(err, null);
      assert.deepEqual(responses, []);
    });

    test('fetchSockets gives each matching socket once, with its rooms, data and auth',
      async () => {
        const tag = `fetch-${name}`;
        const members = await Promise.all([0, 1, 2].map((i) => client({ ...opts, auth: { n: i } })));
        for (const [i, m] of members.entries()) {
          await m.emitWithAck('join', tag);
          await m.emitWithAck('set-data', { i });
        }
        const outsider = await client(opts);
        const found = await outsider.emitWithAck('fetch', tag);
        found.sort((x, y) => x.data.i - y.data.i);
        assert.deepEqual(found, members.map((m, i) => ({
          id: m.id, nsp: '/', rooms: [m.id, tag], data: { i }, auth: { n: i },
        })));
        assert.deepEqual(await outsider.emitWithAck('fetch', `nobody-${name}`), []);
      });

    test('serverSideEmit on a single node reaches no other server: ack with no replies',
      async () => {
        const c = await client(opts);
        assert.deepEqual(await c.emitWithAck('server-side-emit'), { err: null, replies: 0 });
      });
  });
}

test('the server keeps serving others while a client sends garbage', async () => {
  const good = await client({ transports: ['websocket'] });
  const bad = await client({ transports: ['websocket'] });
  const closed = onceEvent(bad, 'disconnect', T, 'bad client closed');
  bad.io.engine.write('2{"not":"an array"}');  // a Socket.IO EVENT whose payload is invalid
  const [reason] = await closed;
  assert.match(reason, /transport close|parse error/);
  const rooms = await withTimeout(good.emitWithAck('join', 'still-here'), T, 'good client');
  assert.ok(rooms.includes('still-here'));
});

// Volatile packets: dropped, not queued, for a connection that is backed up. The receiver
// stops reading (its TCP socket paused) while 20 MB of volatile events are sent to it, more
// than loopback's socket buffers hold; then a plain event. Some volatile events must be gone,
// the rest arrive in order, and the plain one arrives; the connection stays up (had they been
// queued, the 1 MiB slow-consumer limit would have closed it).
for (const via of ['room broadcast', 'socket emit']) {
  test(`volatile events are dropped for a backed-up client (${via})`, async () => {
    const receiver = await client({ transports: ['websocket'] });
    const tag = `vol-${via.replace(' ', '-')}`;
    await receiver.emitWithAck('join', tag);
    const got = [];
    receiver.on('v', (i) => got.push(i));
    const end = onceEvent(receiver, 'end', 20_000, 'end after the flood');
    const tcp = receiver.io.engine.transport.ws._socket;
    tcp.pause();
    const count = 2000;
    if (via === 'room broadcast') {
      const sender = await client({ transports: ['websocket'] });
      await sender.emitWithAck('flood-volatile', tag, count, 10_000);
    } else {
      receiver.emit('flood-volatile', '', count, 10_000);
    }
    await new Promise((r) => setTimeout(r, 500));
    tcp.resume();
    assert.deepEqual(await end, [count]);
    assert.ok(got.length > 0, 'some volatile events arrive');
    assert.ok(got.length < count, `volatile events were dropped (${got.length} of ${count} arrived)`);
    for (let k = 1; k < got.length; ++k) assert.ok(got[k] > got[k - 1], 'in order');
    assert.equal(receiver.connected, true);
  });
}

// permessage-deflate (server_options::per_message_deflate): a raw Engine.IO WebSocket that
// offers it gets large events compressed, unless the emit said compress(false); measured in
// bytes read off the TCP socket, for a socket emit and for a room broadcast.
test('compress(): large events go out deflated unless compress(false)', async () => {
  const deflating = await startServer([], {
    bin: process.env.SIO_FEATURE_SERVER_BIN,
    argv: ['--port', '0', '--threads', '2', '--deflate', '1'],
  });
  try {
    const ws = new WebSocket(`ws://${HOST}:${deflating.port}/socket.io/?EIO=4&transport=websocket`,
      { perMessageDeflate: true });
    ws.on('message', (data) => {
      if (data.toString() === '2') ws.send('3');  // pong
    });
    const q = messageQueue(ws);
    const next = async () => {
      for (;;) {
        const text = (await q.next(T)).data.toString();
        if (text !== '2') return text;
      }
    };
    await onceEvent(ws, 'open', T, 'ws open');
    assert.match(ws.extensions, /permessage-deflate/);
    assert.match(await next(), /^0\{/);
    ws.send('40');
    assert.match(await next(), /^40\{"sid"/);
    ws.send('420["join","zroom"]');
    assert.match(await next(), /^430\[/);
    const size = 100_000;
    const bytesFor = async (frame) => {
      const before = ws._socket.bytesRead;
      ws.send(frame);
      const got = await next();
      assert.equal(got, `42["blob","${'z'.repeat(size)}"]`);
      return ws._socket.bytesRead - before;
    };
    const socketDeflated = await bytesFor(`42["blob-compress",${size},true]`);
    const socketPlain = await bytesFor(`42["blob-compress",${size},false]`);
    const roomDeflated = await bytesFor(`42["blob-compress",${size},true,"zroom"]`);
    const roomPlain = await bytesFor(`42["blob-compress",${size},false,"zroom"]`);
    assert.ok(socketDeflated < size / 10, `socket emit deflated: ${socketDeflated} bytes`);
    assert.ok(socketPlain > size, `socket emit with compress(false): ${socketPlain} bytes`);
    assert.ok(roomDeflated < size / 10, `broadcast deflated: ${roomDeflated} bytes`);
    assert.ok(roomPlain > size, `broadcast with compress(false): ${roomPlain} bytes`);
    ws.close();
  } finally {
    await stopServerCleanly(deflating);
  }
});

// Long-polling responses (Node's httpCompression): gzip or deflate as the GET's Accept-Encoding
// asks, from 1,024 bytes on, unless the emit said compress(false). node:http shows the bytes as
// sent (fetch would inflate them unseen).
test('long-polling responses go out gzip/deflate-compressed when accepted', async () => {
  const url = (sid) => `${base}/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;
  const get = (sid, acceptEncoding) => withTimeout(new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding };
    http.get(url(sid), { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  }), T, 'poll');
  const post = async (sid, body) => {
    assert.equal((await fetch(url(sid), { method: 'POST', body })).status, 200);
  };
  const sid = JSON.parse((await get(undefined)).body.toString().slice(1)).sid;
  await post(sid, '40');
  assert.match((await get(sid)).body.toString(), /^40\{"sid":/);
  // The blob event out of a polling response, whatever pings share it.
  const blobOf = (text) => text.split('\x1e').find((p) => p.startsWith('42["blob"'));
  const cases = [
    // [emit, Accept-Encoding, expected Content-Encoding, inflate]
    [`42["blob-compress",5000,true]`, 'gzip, deflate', 'gzip', zlib.gunzipSync],
    [`42["blob-compress",5000,true]`, 'gzip;q=0.5, deflate', 'deflate', zlib.inflateSync],
    [`42["blob-compress",5000,false]`, 'gzip', undefined, null],
    [`42["blob-compress",5000,true]`, undefined, undefined, null],
    [`42["blob-compress",5000,true]`, 'br', undefined, null],
    [`42["blob-compress",100,true]`, 'gzip', undefined, null],  // below the threshold
  ];
  for (const [emit, accept, coding, inflate] of cases) {
    await post(sid, emit);
    const r = await get(sid, accept);
    const what = `${emit} with Accept-Encoding ${accept}`;
    assert.equal(r.headers['content-encoding'], coding, what);
    const text = (inflate ? inflate(r.body) : r.body).toString();
    const size = Number(emit.match(/,(\d+),/)[1]);
    assert.equal(blobOf(text), `42["blob","${'z'.repeat(size)}"]`, what);
    if (coding) assert.ok(r.body.length < 200, `${what}: ${r.body.length} bytes`);
  }
});

test('dynamic namespaces: created on connect, a parent broadcast reaches every child', async () => {
  const one = raw('/dyn-1', { transports: ['websocket'] });
  const two = raw('/dyn-22', { transports: ['polling'] });
  assert.deepEqual(await onceEvent(one, 'hello', T, 'hello /dyn-1'), ['/dyn-1']);
  assert.deepEqual(await onceEvent(two, 'hello', T, 'hello /dyn-22'), ['/dyn-22']);
  const heard = [one, two].map((c) => onceEvent(c, 'shouted', T, 'shouted'));
  await one.emitWithAck('shout', 'to all children');
  for (const h of await Promise.all(heard)) assert.deepEqual(h, ['to all children']);

  const bad = raw('/dyn-x', { transports: ['websocket'] });
  const [err] = await onceEvent(bad, 'connect_error', T, 'connect_error for /dyn-x');
  assert.equal(err.message, 'Invalid namespace');
});

test('a WebSocket probe that never completes the upgrade is closed; polling goes on', async () => {
  // The feature server's upgrade timeout is 500 ms.
  const open = await (await fetch(`${base}/socket.io/?EIO=4&transport=polling`)).text();
  const { sid } = JSON.parse(open.slice(1));
  const probe = new WebSocket(
    `ws://${HOST}:${server.port}/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
  await onceEvent(probe, 'open', T, 'probe open');
  const started = Date.now();
  const [code] = await onceEvent(probe, 'close', T, 'probe closed by the server');
  assert.equal(code, 1000);
  assert.ok(Date.now() - started >= 300, 'closed by the deadline, not at once');
  const r = await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
    { method: 'POST', body: '40' });
  assert.equal(r.status, 200, 'the polling session is still there');
});

test('a polling client that stops fetching is cut off past max_buffered_bytes', async () => {
  const url = (sid) => `${base}/socket.io/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;
  const { sid } = JSON.parse((await (await fetch(url())).text()).slice(1));
  assert.equal((await fetch(url(sid), { method: 'POST', body: '40' })).status, 200);
  const connected = await (await fetch(url(sid))).text();
  assert.match(connected, /^40\{"sid":/);
  // 2,000 events of 1,000 bytes queue 2 MB for a client that does not poll: past 1 MiB the
  // session ends instead of buffering without bound.
  assert.equal((await fetch(url(sid), { method: 'POST', body: '42["flood",2000,1000]' })).status,
    200);
  const after = await fetch(url(sid));
  assert.equal(after.status, 400);
  assert.deepEqual(await after.json(), { code: 1, message: 'Session ID unknown' });
  // Within the limit, nothing is lost.
  const s2 = JSON.parse((await (await fetch(url())).text()).slice(1)).sid;
  await fetch(url(s2), { method: 'POST', body: '40' });
  await (await fetch(url(s2))).text();
  await fetch(url(s2), { method: 'POST', body: '42["flood",100,1000]' });
  let blobs = 0;
  while (blobs < 100) {
    const body = await withTimeout(fetch(url(s2)).then((r) => r.text()), T, 'poll');
    blobs += body.split('\x1e').filter((p) => p.startsWith('42["blob"')).length;
  }
  assert.equal(blobs, 100);
});
