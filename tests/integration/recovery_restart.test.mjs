// Connection state recovery in relay serve uses the room history: with --data-dir, a client of
// the official socket.io-client (connectionStateRecovery on the server) that was in a room when
// the server was stopped (SIGTERM, drain) comes back to the restarted server with its session:
// socket.recovered, the same id, still in the room, and the messages published while it was
// away replayed from the SQLite history -- each once, in order, then live ones.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until } from './helpers.mjs';

const T = 5000;
const KEY = 'restart-recovery-key';

function publish(srv, room, data) {
  return fetch(`http://${HOST}:${srv.port}/api/publish`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ rooms: [room], data }),
  }).then(async (res) => {
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  });
}

test('a session survives a restart: missed room messages come from the history', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-recovery-'));
  const clients = [];
  let srv;
  try {
    const args = ['--rooms-namespace', '/live', '--data-dir', dataDir, '--recovery',
      '--api-key', KEY, '--drain-timeout', '1s'];
    srv = await startServer(args);
    const port = srv.port;
    // Reconnects late enough that the publishes after the restart are in before it is back.
    const c = io(`http://${HOST}:${port}/live`, {
      forceNew: true, transports: ['websocket'], reconnectionDelay: 1500,
      reconnectionDelayMax: 1500, randomizationFactor: 0,
    });
    clients.push(c);
    await onceEvent(c, 'connect', T, 'connect');
    assert.equal(c.recovered, false);
    const id = c.id;
    const joined = await c.emitWithAck('join', 'news');
    assert.equal(joined.ok, true);
    const got = [];
    c.on('message', (m) => got.push(m.data));
    await publish(srv, 'news', 'm1');
    await until(() => got.length === 1, T, 'm1 (gives the client an offset)');

    const down = onceEvent(c, 'disconnect', T, 'disconnect at the drain');
    await stopServerCleanly(srv);
    await down;

    srv = await startServer([...args.slice(0), '--port', String(port)]);
    assert.equal(srv.port, port);
    let back = false;
    c.once('connect', () => { back = true; });
    await publish(srv, 'news', 'm2');
    await publish(srv, 'news', 'm3');
    assert.equal(back, false, 'the client came back before the publishes: nothing to replay');

    await until(() => back, 2 * T, 'reconnect to the restarted server');
    assert.equal(c.recovered, true, 'socket.recovered');
    assert.equal(c.id, id, 'same id');
    await until(() => got.length >= 3, T, 'the missed messages');
    // The replayed messages carry offsets of this process: a second drop, before any live
    // message, is recovered too (from the new process's journal).
    c.io.opts.reconnectionDelay = 100;
    c.io.opts.reconnectionDelayMax = 100;
    c.io.reconnectionDelay(100);
    c.io.reconnectionDelayMax(100);
    const downAgain = onceEvent(c, 'disconnect', T, 'second disconnect');
    c.io.engine.transport.ws._socket.destroy();
    await downAgain;
    const backAgain = onceEvent(c, 'connect', T, 'second reconnect');
    await publish(srv, 'news', 'm4');
    await backAgain;
    assert.equal(c.recovered, true, 'recovered after the second drop');
    assert.equal(c.id, id);
    await until(() => got.length >= 4, T, 'the message missed in the second drop');
    await publish(srv, 'news', 'm5');  // still in the room
    await until(() => got.length >= 5, T, 'a live message after recovery');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5']);
  } finally {
    for (const c of clients) c.disconnect();
    if (srv) await stopServerCleanly(srv);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// Without a restart too, a recovered socket is a rooms-service member again under the token it
// came back with (the JWT middleware runs again): in presence, or out of a room its new token
// does not grant.
test('recovery re-checks the token: rooms kept when granted, left when not', async () => {
  const SECRET = 'recovery secret';
  const { default: jwt } = await import('jsonwebtoken');
  const token = (sub, subscribe) => jwt.sign({ sub, relay: { subscribe, publish: [] } }, SECRET,
    { expiresIn: '5m' });
  const srv = await startServer(['--rooms-namespace', '/live', '--recovery', '--api-key', KEY,
    '--jwt-secret', SECRET]);
  const clients = [];
  try {
    const connect = (sub, subscribe) => {
      const c = io(`http://${HOST}:${srv.port}/live`, {
        forceNew: true, transports: ['websocket'], reconnectionDelay: 100,
        reconnectionDelayMax: 100, auth: { token: token(sub, subscribe) },
      });
      clients.push(c);
      return c;
    };
    const alice = connect('alice', ['team:*']);
    const bob = connect('bob', ['team:*']);
    await Promise.all([onceEvent(alice, 'connect', T, 'alice'), onceEvent(bob, 'connect', T, 'bob')]);
    for (const c of [alice, bob]) assert.equal((await c.emitWithAck('join', 'team:a')).ok, true);
    const got = { alice: [], bob: [] };
    alice.on('message', (m) => got.alice.push(m.data));
    bob.on('message', (m) => got.bob.push(m.data));
    await publish(srv, 'team:a', 'before');
    await until(() => got.alice.length === 1 && got.bob.length === 1, T, 'first message');

    // Both lose their network; bob comes back with a token that no longer grants team:*.
    bob.auth = { token: token('bob', ['other:*']) };
    const downs = [alice, bob].map((c) => onceEvent(c, 'disconnect', T, 'disconnect'));
    const backs = [alice, bob].map((c) => onceEvent(c, 'connect', T, 'reconnect'));
    alice.io.engine.transport.ws._socket.destroy();
    bob.io.engine.transport.ws._socket.destroy();
    await Promise.all(downs);
    await publish(srv, 'team:a', 'away');
    await Promise.all(backs);
    assert.equal(alice.recovered, true);
    assert.equal(bob.recovered, true);
    await until(() => got.alice.length === 2, T, 'alice: the missed message');
    await publish(srv, 'team:a', 'after');
    await until(() => got.alice.length === 3, T, 'alice: a live one');
    const members = await alice.emitWithAck('presence', 'team:a');
    assert.deepEqual(members.members.map((m) => m.user), ['alice']);
    assert.deepEqual(got.alice, ['before', 'away', 'after']);
    // Bob's new token does not grant team:a: out of it before the replay, so neither the
    // message he missed there nor a later one.
    assert.deepEqual(got.bob, ['before']);
  } finally {
    for (const c of clients) c.disconnect();
    await stopServerCleanly(srv);
  }
});
