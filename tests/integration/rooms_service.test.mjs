// Rooms as a service (relay serve --rooms-namespace /live --jwt-secret S): with the official
// socket.io-client and tokens from npm jsonwebtoken, joins and publishes are allowed exactly
// as the token's relay.subscribe / relay.publish patterns say; refusals come back as error acks
// (or a "relay:error" event when no ack was asked for), never as a silent drop.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, withTimeout } from './helpers.mjs';

const T = 5000;
const SECRET = 'rooms service secret';
let server;
let open;  // the same, without tokens: every room open
const clients = [];

before(async () => {
  server = await startServer(['--jwt-secret', SECRET, '--rooms-namespace', '/live']);
  open = await startServer(['--rooms-namespace', '/live']);
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
  await stopServerCleanly(open);
});

async function member(srv, sub, grants) {
  const auth = grants ? { token: jwt.sign({ sub, relay: grants }, SECRET, { expiresIn: '5m' }) }
    : {};
  const c = io(`http://${HOST}:${srv.port}/live`,
    { reconnection: false, forceNew: true, transports: ['websocket'], auth });
  clients.push(c);
  await onceEvent(c, 'connect', T, `${sub} connect`);
  c.inbox = [];
  c.on('message', (m) => c.inbox.push(m));
  return c;
}

const ask = (c, ...args) => withTimeout(c.emitWithAck(...args), T, `ack of ${args[0]}`);
const until = async (pred, what) => {
  const end = Date.now() + T;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('joins and publishes follow the token grants', async () => {
  const alice = await member(server, 'alice', { subscribe: ['chat:*'], publish: ['chat:*'] });
  const bob = await member(server, 'bob', { subscribe: ['chat:*', 'news'], publish: [] });

  assert.deepEqual(await ask(alice, 'join', 'chat:1'), { ok: true, room: 'chat:1' });
  assert.deepEqual(await ask(bob, 'join', 'chat:1'), { ok: true, room: 'chat:1' });
  assert.deepEqual(await ask(alice, 'join', 'news'), { error: 'not allowed to join news' });
  assert.deepEqual(await ask(bob, 'join', ''), { error: 'room must be 1-200 bytes' });

  assert.deepEqual(await ask(alice, 'publish', { room: 'chat:1', data: { text: 'hi' } }),
    { ok: true });
  await until(() => bob.inbox.length === 1 && alice.inbox.length === 1, 'both get the message');
  assert.deepEqual(bob.inbox[0], { room: 'chat:1', data: { text: 'hi' }, from: 'alice' });

  assert.deepEqual(await ask(bob, 'publish', { room: 'chat:1', data: 'no' }),
    { error: 'not allowed to publish in chat:1' });
  // Without an ack the refusal still comes back, as an event.
  const refused = onceEvent(bob, 'relay:error', T, 'relay:error');
  bob.emit('publish', { room: 'chat:1', data: 'no ack' });
  assert.deepEqual((await refused)[0],
    { event: 'publish', room: 'chat:1', error: 'not allowed to publish in chat:1' });

  // After leaving, alice still may publish, but no longer receives.
  assert.deepEqual(await ask(alice, 'leave', 'chat:1'), { ok: true, room: 'chat:1' });
  assert.deepEqual(await ask(alice, 'publish', { room: 'chat:1', data: 2 }), { ok: true });
  await until(() => bob.inbox.length === 2, 'bob gets the second');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(alice.inbox.length, 1, 'alice left: nothing more for her');
  assert.equal(bob.inbox.filter((m) => m.data === 'no' || m.data === 'no ack').length, 0,
    'refused publishes reached nobody');
});

test('a room named like a socket id is not that socket\'s private room', async () => {
  const victim = await member(server, 'victim', { subscribe: [], publish: [] });
  const spy = await member(server, 'spy', { subscribe: ['*'], publish: ['*'] });
  assert.deepEqual(await ask(spy, 'join', victim.id), { ok: true, room: victim.id });
  // A publish to that name reaches the spy's room, not the victim.
  assert.deepEqual(await ask(spy, 'publish', { room: victim.id, data: 'x' }), { ok: true });
  await until(() => spy.inbox.length === 1, 'spy gets its own room message');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(victim.inbox.length, 0);
});

test('without tokens every room is open; with them, no token means no grants', async () => {
  const anyone = await member(open, 'anyone', null);
  assert.deepEqual(await ask(anyone, 'join', 'whatever'), { ok: true, room: 'whatever' });
  assert.deepEqual(await ask(anyone, 'publish', { room: 'whatever', data: 1 }), { ok: true });
  await until(() => anyone.inbox.length === 1, 'own message');
  assert.equal(anyone.inbox[0].from, null);
  const c = io(`http://${HOST}:${server.port}/live`,
    { reconnection: false, forceNew: true, transports: ['websocket'] });
  clients.push(c);
  const [err] = await onceEvent(c, 'connect_error', T, 'connect_error');
  assert.equal(err.message, 'token required');
});
