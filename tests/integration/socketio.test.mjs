// The official npm socket.io-client 4.8 against examples/conformance_server (Relay's Socket.IO
// server through its public C++ API), over WebSocket only, long-polling only, and polling
// upgraded to WebSocket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { io } from 'socket.io-client';

import {
  HOST, WebSocket, messageQueue, onceEvent, startServer, stopServerCleanly, withTimeout,
} from './helpers.mjs';

const CONFORMANCE_BIN = process.env.CONFORMANCE_BIN;
const T = 5000;

let server;
let base;

before(async () => {
  assert.ok(CONFORMANCE_BIN, 'CONFORMANCE_BIN must name examples/conformance_server');
  server = await startServer([], {
    bin: CONFORMANCE_BIN,
    // Two loops: polling requests of one session land on either (the kernel balances
    // connections), so the move of a connection to its session's loop is exercised too.
    argv: ['--host', HOST, '--port', '0', '--threads', '2'],
  });
  base = `http://${HOST}:${server.port}`;
});

after(async () => {
  await stopServerCleanly(server);
});

const sockets = [];
function connect(nsp = '/', opts = {}) {
  const s = io(base + nsp, { reconnection: false, forceNew: true, ...opts });
  sockets.push(s);
  return s;
}
after(() => {
  for (const s of sockets) s.disconnect();
});

async function connected(s) {
  if (!s.connected) await onceEvent(s, 'connect', T, 'connect');
  return s;
}

const TRANSPORTS = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'] },
  upgrade: { transports: ['polling', 'websocket'] },
};

for (const [name, opts] of Object.entries(TRANSPORTS)) {
  describe(`socket.io-client over ${name}`, () => {
    test('connects, gets the auth event and an id', async () => {
      const s = connect('/', opts);
      const [auth] = await onceEvent(s, 'auth', T, 'auth event');
      assert.deepEqual(auth, {});
      await connected(s);
      assert.match(s.id, /^[A-Za-z0-9_-]{20}$/);
      if (name === 'upgrade') {
        await withTimeout(new Promise((resolve) => {
          if (s.io.engine.transport.name === 'websocket') resolve();
          s.io.engine.once('upgrade', resolve);
        }), T, 'upgrade to websocket');
        assert.equal(s.io.engine.transport.name, 'websocket');
      } else {
        assert.equal(s.io.engine.transport.name, name);
      }
    });

    test('events round-trip with their arguments, key order kept', async () => {
      const s = await connected(connect('/', opts));
      const sent = [1, 'two', { b: 1, a: [true, null, 2.5] }, 'ünïcødé ✓'];
      const back = onceEvent(s, 'message-back', T, 'message-back');
      s.emit('message', ...sent);
      const got = await back;
      assert.deepEqual(got, sent);
      assert.deepEqual(Object.keys(got[2]), ['b', 'a']);
    });

    test('binary arguments, nested, both ways', async () => {
      const s = await connected(connect('/', opts));
      const blob = Buffer.from([0, 1, 2, 250, 255]);
      const back = onceEvent(s, 'message-back', T, 'binary message-back');
      s.emit('message', blob, { nested: [Buffer.from('xyz')], n: 1 });
      const [b1, obj] = await back;
      assert.deepEqual(Buffer.from(b1), blob);
      assert.deepEqual(Buffer.from(obj.nested[0]).toString(), 'xyz');
      assert.equal(obj.n, 1);
    });

    test('acks carry the handler reply', async () => {
      const s = await connected(connect('/', opts));
      const reply = await withTimeout(new Promise((resolve) => {
        s.emit('message-with-ack', 1, '2', { three: 3 }, (...a) => resolve(a));
      }), T, 'ack');
      assert.deepEqual(reply, [1, '2', { three: 3 }]);
      assert.deepEqual(await s.timeout(T).emitWithAck('message-with-ack', 'x'), 'x');
    });

    test('a custom namespace sees the auth payload', async () => {
      const s = connect('/custom', { ...opts, auth: { token: 'abc', n: 1 } });
      const [auth] = await onceEvent(s, 'auth', T, 'auth on /custom');
      assert.deepEqual(auth, { token: 'abc', n: 1 });
    });

    test('an unknown namespace is refused with "Invalid namespace"', async () => {
      const s = connect('/nope', opts);
      const [err] = await onceEvent(s, 'connect_error', T, 'connect_error');
      assert.equal(err.message, 'Invalid namespace');
    });

    test('client disconnect and reconnect on the same manager', async () => {
      const s = await connected(connect('/', opts));
      s.disconnect();
      assert.equal(s.connected, false);
      s.connect();
      await onceEvent(s, 'connect', T, 'reconnect');
      const back = onceEvent(s, 'message-back', T, 'message-back after reconnect');
      s.emit('message', 'again');
      assert.deepEqual(await back, ['again']);
    });
  });
}

test('heartbeat: the connection outlives many ping intervals (300 ms)', async () => {
  const s = await connected(connect('/', TRANSPORTS.polling));
  let disconnected = null;
  s.on('disconnect', (reason) => {
    disconnected = reason;
  });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(disconnected, null);
  assert.equal(s.connected, true);
});

// b64=1 (engine.io-client's forceBase64): binary messages travel as "b<base64>" text frames
// over WebSocket too. Without it they are binary frames; a "b<base64>" text frame from the client
// is a binary message either way (as Node's parser takes it). Raw `ws` against the bare
// Engine.IO echo endpoint, so the frame types are visible.
test('Engine.IO b64=1: binary as base64 text frames over WebSocket', async () => {
  const frames = async (query, send) => {
    const ws = new WebSocket(`ws://${HOST}:${server.port}/engine.io/?EIO=4&transport=websocket${query}`);
    const q = messageQueue(ws);
    const next = async () => {
      const { data, isBinary } = await q.next(T);
      return { isBinary, text: isBinary ? [...data] : data.toString() };
    };
    await onceEvent(ws, 'open', T, 'open');
    const open = await next();
    assert.match(open.text, /^0\{/);
    const replies = [];
    for (const [data, binary] of send) {
      ws.send(data, { binary });
      replies.push(await next());
    }
    ws.close();
    return replies;
  };
  assert.deepEqual(await frames('&b64=1', [['bAQID', false], [Buffer.from([4, 5]), true]]), [
    { isBinary: false, text: 'bAQID' },
    { isBinary: false, text: 'bBAU=' },
  ]);
  assert.deepEqual(await frames('', [['bAQID', false], [Buffer.from([4, 5]), true]]), [
    { isBinary: true, text: [1, 2, 3] },
    { isBinary: true, text: [4, 5] },
  ]);
});
