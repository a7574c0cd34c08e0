// The Engine.IO cases both official suites have (the Socket.IO v5 suite repeats the Engine.IO
// v4 suite's handshake, heartbeat and close cases, against /socket.io/): defined once, run by
// eio_suite.test.mjs and sio_suite.test.mjs inside their describe('Engine.IO protocol'). Every
// close is awaited (the v5 suite forgets to await some; its Engine.IO twin awaits them).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Client,
  ORDERING_DELAY,
  PING_INTERVAL,
  PING_TIMEOUT,
  SLACK,
  T,
  checkHandshake,
  initLongPollingSession,
  poll,
  push,
  request,
  show,
  sleep,
} from './eio_harness.mjs';

export function describeCommonEngineCases() {
  describe('handshake', () => {
    describe('HTTP long-polling', () => {
      test('successfully opens a session', async () => {
        const r = await request('EIO=4&transport=polling');
        assert.equal(r.status, 200, show(r));
        checkHandshake(r.body, ['websocket']);
      });

      test("fails with an invalid 'EIO' query parameter", async () => {
        const r = await request('transport=polling');
        assert.equal(r.status, 400, `no EIO: ${show(r)}`);
        const r2 = await request('EIO=abc&transport=polling');
        assert.equal(r2.status, 400, `EIO=abc: ${show(r2)}`);
      });

      test("fails with an invalid 'transport' query parameter", async () => {
        const r = await request('EIO=4');
        assert.equal(r.status, 400, `no transport: ${show(r)}`);
        const r2 = await request('EIO=4&transport=abc');
        assert.equal(r2.status, 400, `transport=abc: ${show(r2)}`);
      });

      test('fails with an invalid request method', async () => {
        const r = await request('EIO=4&transport=polling', { method: 'POST' });
        assert.equal(r.status, 400, `POST without sid: ${show(r)}`);
        const r2 = await request('EIO=4&transport=polling', { method: 'PUT' });
        assert.equal(r2.status, 400, `PUT: ${show(r2)}`);
      });
    });

    describe('WebSocket', () => {
      test('successfully opens a session', async () => {
        const socket = new Client('EIO=4&transport=websocket');
        checkHandshake(await socket.message(), []);
        socket.end();
      });

      test("fails with an invalid 'EIO' query parameter", async () => {
        const socket = new Client('transport=websocket');
        await socket.close();
        const socket2 = new Client('EIO=abc&transport=websocket');
        await socket2.close();
      });

      test("fails with an invalid 'transport' query parameter", async () => {
        const socket = new Client('EIO=4');
        await socket.close();
        const socket2 = new Client('EIO=4&transport=abc');
        await socket2.close();
      });
    });
  });

  describe('heartbeat', () => {
    describe('HTTP long-polling', () => {
      test('sends ping/pong packets', async () => {
        const sid = await initLongPollingSession();
        for (let i = 0; i < 3; i++) {
          const polled = await poll(sid);
          assert.equal(polled.status, 200, `ping ${i}: ${show(polled)}`);
          assert.equal(polled.body, '2', `ping ${i}: ${show(polled)}`);
          const pushed = await push(sid, '3');
          assert.equal(pushed.status, 200, `pong ${i}: ${show(pushed)}`);
        }
      });

      test('closes the session upon ping timeout', async () => {
        const sid = await initLongPollingSession();
        await sleep(PING_INTERVAL + PING_TIMEOUT + SLACK);
        const polled = await poll(sid);
        assert.equal(polled.status, 400, show(polled));
      });
    });

    describe('WebSocket', () => {
      test('sends ping/pong packets', async () => {
        const socket = new Client('EIO=4&transport=websocket');
        await socket.message();  // handshake
        for (let i = 0; i < 3; i++) {
          assert.equal(await socket.message(), '2', `ping ${i}`);
          socket.send('3');
        }
        socket.end();
      });

      test('closes the session upon ping timeout', async () => {
        const socket = new Client('EIO=4&transport=websocket');
        await socket.close(PING_INTERVAL + PING_TIMEOUT + T);
      });
    });
  });

  describe('close', () => {
    describe('HTTP long-polling', () => {
      test('forcefully closes the session', async () => {
        const sid = await initLongPollingSession();
        // The suite sends both at once; the close must reach the session after the poll is
        // pending, or that poll would (rightly) be refused as an unknown session.
        const [polled, pushed] = await Promise.all([
          poll(sid),
          sleep(ORDERING_DELAY).then(() => push(sid, '1')),
        ]);
        assert.equal(polled.status, 200, `poll: ${show(polled)} (POST "1": ${show(pushed)})`);
        assert.equal(polled.body, '6', `poll: ${show(polled)} (POST "1": ${show(pushed)})`);
        const polled2 = await poll(sid);
        assert.equal(polled2.status, 400, `poll after close: ${show(polled2)}`);
      });
    });

    describe('WebSocket', () => {
      test('forcefully closes the session', async () => {
        const socket = new Client('EIO=4&transport=websocket');
        await socket.message();  // handshake
        socket.send('1');
        await socket.close();
      });
    });
  });
}
