// The official Socket.IO v5 test suite (socketio/socket.io,
// docs/socket.io-protocol/v5-test-suite/test-suite.js), ported case by case to node:test and run
// against examples/conformance_server at /socket.io/ (namespaces "/" and "/custom"; pingInterval
// 300, pingTimeout 200, maxPayload 1000000, connectTimeout 1000). HTTP goes through Node's
// fetch, WebSocket through the npm `ws` client; every wait is bounded. The only sleeps are those
// the suite's cases are about (ping timeout) or need to order two concurrent requests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Client,
  T,
  initLongPollingSession,
  poll,
  sleep,
  push,
  server,
  show,
  useEnginePath,
} from './eio_harness.mjs';
import { describeCommonEngineCases } from './eio_common_cases.mjs';
import { WebSocket } from './helpers.mjs';

useEnginePath('/socket.io/');

// Opens a WebSocket session and joins the main namespace; the EIO handshake, the "40" answer
// and the "auth" event are consumed.
async function initSocketIOConnection() {
  const socket = new Client('EIO=4&transport=websocket');
  await socket.message();  // Engine.IO handshake
  socket.send('40');
  await socket.message();  // Socket.IO handshake
  await socket.message();  // "auth" event
  return socket;
}

// The next `count` messages, PING packets ("2") left out.
async function waitForPackets(socket, count) {
  const packets = [];
  while (packets.length < count) {
    const m = await socket.message();
    if (m !== '2') packets.push(m);
  }
  return packets;
}

function assertBinary(data, bytes) {
  assert.ok(Buffer.isBuffer(data), `expected a binary message, got ${JSON.stringify(data)}`);
  assert.deepEqual(data, Buffer.from(bytes));
}

// "40..." answer to a namespace connect: the prefix, then a JSON object with exactly a string sid.
function checkConnectAnswer(data, prefix) {
  assert.equal(typeof data, 'string', `expected text, got ${String(data)}`);
  assert.ok(data.startsWith(prefix),
            `expected ${JSON.stringify(prefix)}..., got ${JSON.stringify(data)}`);
  const handshake = JSON.parse(data.substring(prefix.length));
  assert.deepEqual(Object.keys(handshake), ['sid'], `connect answer ${data}`);
  assert.equal(typeof handshake.sid, 'string');
}

// ---------------------------------------------------------------------------------------------

describe('Engine.IO protocol', () => {
  describeCommonEngineCases();

  describe('upgrade', () => {
    test('should successfully upgrade from HTTP long-polling to WebSocket', async () => {
      const sid = await initLongPollingSession();
      const socket = new Client(`EIO=4&transport=websocket&sid=${sid}`);
      await socket.open();
      socket.send('2probe');
      assert.equal(await socket.message(), '3probe');
      socket.send('5');  // complete the upgrade
      socket.end();
    });

    // Unlike its Engine.IO twin, this one does not wait for "3probe" before sending "5".
    // Needs the server not to negotiate permessage-deflate by default (as Node): otherwise the
    // `ws` client compresses "2probe" and "5" on the zlib thread pool and the poll overtakes them.
    test('should ignore HTTP requests with same sid after upgrade', async () => {
      const sid = await initLongPollingSession();
      const socket = new Client(`EIO=4&transport=websocket&sid=${sid}`);
      await socket.open();
      socket.send('2probe');
      socket.send('5');
      const polled = await poll(sid);
      assert.equal(polled.status, 400, show(polled));
      socket.end();
    });

    test('should ignore WebSocket connection with same sid after upgrade', async () => {
      const sid = await initLongPollingSession();
      const socket = new Client(`EIO=4&transport=websocket&sid=${sid}`);
      await socket.open();
      socket.send('2probe');
      socket.send('5');
      const socket2 = new Client(`EIO=4&transport=websocket&sid=${sid}`);
      await socket2.close();
      socket.end();
    });
  });
});

describe('Socket.IO protocol', () => {
  describe('connect', () => {
    test('should allow connection to the main namespace', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('40');
      checkConnectAnswer(await socket.message(), '40');
      assert.equal(await socket.message(), '42["auth",{}]');
      socket.end();
    });

    test('should allow connection to the main namespace with a payload', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('40{"token":"123"}');
      checkConnectAnswer(await socket.message(), '40');
      assert.equal(await socket.message(), '42["auth",{"token":"123"}]');
      socket.end();
    });

    test('should allow connection to a custom namespace', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('40/custom,');
      checkConnectAnswer(await socket.message(), '40/custom,');
      assert.equal(await socket.message(), '42/custom,["auth",{}]');
      socket.end();
    });

    test('should allow connection to a custom namespace with a payload', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('40/custom,{"token":"abc"}');
      checkConnectAnswer(await socket.message(), '40/custom,');
      assert.equal(await socket.message(), '42/custom,["auth",{"token":"abc"}]');
      socket.end();
    });

    test('should disallow connection to an unknown namespace', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('40/random');  // no trailing comma, as in the suite
      assert.equal(await socket.message(), '44/random,{"message":"Invalid namespace"}');
      socket.end();
    });

    test('should disallow connection with an invalid handshake', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.message();  // Engine.IO handshake
      socket.send('4abc');
      await socket.close();
    });

    test('should close the connection if no handshake is received', async () => {
      const socket = new Client('EIO=4&transport=websocket');
      await socket.close(1000 + T);  // connectTimeout 1000 (or the unanswered ping)
    });
  });

  describe('disconnect', () => {
    test('should disconnect from the main namespace', async () => {
      const socket = await initSocketIOConnection();
      socket.send('41');
      // nothing but the next ping follows
      assert.equal(await socket.message(), '2');
      socket.end();
    });

    test('should connect then disconnect from a custom namespace', async () => {
      const socket = await initSocketIOConnection();
      await socket.message();  // ping (left unanswered, as in the suite)
      socket.send('40/custom');
      await socket.message();  // Socket.IO handshake
      await socket.message();  // "auth" event
      socket.send('41/custom');
      socket.send('42["message","message to main namespace"]');
      assert.equal(await socket.message(), '42["message-back","message to main namespace"]');
      socket.end();
    });
  });

  describe('message', () => {
    test('should send a plain-text packet', async () => {
      const socket = await initSocketIOConnection();
      socket.send('42["message",1,"2",{"3":[true]}]');
      assert.equal(await socket.message(), '42["message-back",1,"2",{"3":[true]}]');
      socket.end();
    });

    test('should send a packet with binary attachments', async () => {
      const socket = await initSocketIOConnection();
      socket.send(
        '452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      socket.send(Uint8Array.from([1, 2, 3]));
      socket.send(Uint8Array.from([4, 5, 6]));
      const packets = await waitForPackets(socket, 3);
      assert.equal(packets[0], '452-["message-back",{"_placeholder":true,"num":0},' +
                               '{"_placeholder":true,"num":1}]');
      assertBinary(packets[1], [1, 2, 3]);
      assertBinary(packets[2], [4, 5, 6]);
      socket.end();
    });

    test('should send a plain-text packet with an ack', async () => {
      const socket = await initSocketIOConnection();
      socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');
      assert.equal(await socket.message(), '43456[1,"2",{"3":[false]}]');
      socket.end();
    });

    test('should send a packet with binary attachments and an ack', async () => {
      const socket = await initSocketIOConnection();
      socket.send('452-789["message-with-ack",{"_placeholder":true,"num":0},' +
                  '{"_placeholder":true,"num":1}]');
      socket.send(Uint8Array.from([1, 2, 3]));
      socket.send(Uint8Array.from([4, 5, 6]));
      const packets = await waitForPackets(socket, 3);
      assert.equal(packets[0],
                   '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
      assertBinary(packets[1], [1, 2, 3]);
      assertBinary(packets[2], [4, 5, 6]);
      socket.end();
    });

    test('should close the connection upon invalid format (unknown packet type)', async () => {
      const socket = await initSocketIOConnection();
      socket.send('4abc');
      await socket.close();
    });

    test('should close the connection upon invalid format (invalid payload format)', async () => {
      const socket = await initSocketIOConnection();
      socket.send('42{}');
      await socket.close();
    });

    test('should close the connection upon invalid format (invalid ack id)', async () => {
      const socket = await initSocketIOConnection();
      socket.send('42abc["message-with-ack",1,"2",{"3":[false]}]');
      await socket.close();
    });
  });

  // Not in the official suite: connectTimeout measured on clients that keep answering pings, so
  // only the timeout can close them, each at its own deadline.
  describe('connectTimeout (relay)', () => {
    const CONNECT_TIMEOUT = 1000;

    // Opens a WebSocket session that answers every ping; `join` sends CONNECT for "/" at once.
    async function pingAnswering(join) {
      const c = new Client('EIO=4&transport=websocket');
      await c.open();
      c.openedAt = Date.now();
      c.ws.on('message', (data) => {
        if (data.toString() === '2') c.send('3');
      });
      await c.message();  // Engine.IO handshake
      if (join) {
        c.send('40');
        checkConnectAnswer(await c.message(), '40');
      }
      return c;
    }

    test('closes each client that joins no namespace at its own deadline, and no other', async () => {
      const first = await pingAnswering(false);
      const joined = await pingAnswering(true);
      await sleep(400);
      const second = await pingAnswering(false);
      await first.close(CONNECT_TIMEOUT + T);
      const firstAfter = Date.now() - first.openedAt;
      assert.ok(firstAfter >= CONNECT_TIMEOUT - 100, `first closed after ${firstAfter} ms`);
      assert.equal(second.closed, null, 'the later client outlives the first one\'s deadline');
      await second.close(CONNECT_TIMEOUT + T);
      const secondAfter = Date.now() - second.openedAt;
      assert.ok(secondAfter >= CONNECT_TIMEOUT - 100, `second closed after ${secondAfter} ms`);
      await sleep(300);  // past both deadlines by a ping interval
      assert.equal(joined.closed, null, `a joined client stays; ${joined.state()}`);
      joined.end();
    });
  });
});
