// Rooms as a service (relay serve --rooms-namespace /live --jwt-secret S): with the official
// socket.io-client and tokens from npm jsonwebtoken, joins and publishes are allowed exactly
// as the token's relay.subscribe / relay.publish patterns say; refusals come back as error acks
// (or a "relay:error" event when no ack was asked for), never as a silent drop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until as untilWithin, withTimeout } from
  './helpers.mjs';

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
// A join's ack without its epoch (random per room history), which must be a non-empty string.
const joinAck = async (c, arg) => {
  const { epoch, ...rest } = await ask(c, 'join', arg);
  if (rest.ok) assert.match(epoch, /^\S+$/);
  return rest;
};
const until = (pred, what) => untilWithin(pred, T, what);

test('joins and publishes follow the token grants', async () => {
  const alice = await member(server, 'alice', { subscribe: ['chat:*'], publish: ['chat:*'] });
  const bob = await member(server, 'bob', { subscribe: ['chat:*', 'news'], publish: [] });

  assert.deepEqual(await joinAck(alice, 'chat:1'), { ok: true, room: 'chat:1', offset: 0 });
  assert.deepEqual(await joinAck(bob, 'chat:1'), { ok: true, room: 'chat:1', offset: 0 });
  assert.deepEqual(await ask(alice, 'join', 'news'), { error: 'not allowed to join news' });
  assert.deepEqual(await ask(bob, 'join', ''), { error: 'room must be 1-200 bytes' });

  assert.deepEqual(await ask(alice, 'publish', { room: 'chat:1', data: { text: 'hi' } }),
    { ok: true, offset: 1 });
  await until(() => bob.inbox.length === 1 && alice.inbox.length === 1, 'both get the message');
  assert.deepEqual(bob.inbox[0], { room: 'chat:1', data: { text: 'hi' }, from: 'alice', offset: 1 });

  assert.deepEqual(await ask(bob, 'publish', { room: 'chat:1', data: 'no' }),
    { error: 'not allowed to publish in chat:1' });
  // Without an ack the refusal still comes back, as an event.
  const refused = onceEvent(bob, 'relay:error', T, 'relay:error');
  bob.emit('publish', { room: 'chat:1', data: 'no ack' });
  assert.deepEqual((await refused)[0],
    { event: 'publish', room: 'chat:1', error: 'not allowed to publish in chat:1' });

  // After leaving, alice still may publish, but no longer receives.
  assert.deepEqual(await ask(alice, 'leave', 'chat:1'), { ok: true, room: 'chat:1' });
  assert.deepEqual(await ask(alice, 'publish', { room: 'chat:1', data: 2 }), { ok: true, offset: 2 });
  await until(() => bob.inbox.length === 2, 'bob gets the second');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(alice.inbox.length, 1, 'alice left: nothing more for her');
  assert.equal(bob.inbox.filter((m) => m.data === 'no' || m.data === 'no ack').length, 0,
    'refused publishes reached nobody');
});

test('a room named like a socket id is not that socket\'s private room', async () => {
  const victim = await member(server, 'victim', { subscribe: [], publish: [] });
  const spy = await member(server, 'spy', { subscribe: ['*'], publish: ['*'] });
  assert.deepEqual(await joinAck(spy, victim.id), { ok: true, room: victim.id, offset: 0 });
  // A publish to that name reaches the spy's room, not the victim.
  assert.deepEqual(await ask(spy, 'publish', { room: victim.id, data: 'x' }), { ok: true, offset: 1 });
  await until(() => spy.inbox.length === 1, 'spy gets its own room message');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(victim.inbox.length, 0);
});

test('without tokens every room is open; with them, no token means no grants', async () => {
  const anyone = await member(open, 'anyone', null);
  assert.deepEqual(await joinAck(anyone, 'whatever'), { ok: true, room: 'whatever', offset: 0 });
  assert.deepEqual(await ask(anyone, 'publish', { room: 'whatever', data: 1 }), { ok: true, offset: 1 });
  await until(() => anyone.inbox.length === 1, 'own message');
  assert.equal(anyone.inbox[0].from, null);
  const c = io(`http://${HOST}:${server.port}/live`,
    { reconnection: false, forceNew: true, transports: ['websocket'] });
  clients.push(c);
  const [err] = await onceEvent(c, 'connect_error', T, 'connect_error');
  assert.equal(err.message, 'token required');
});

test('history: offsets, catching up on join, paging, limits, and order across loops', async () => {
  const writer = await member(open, 'writer', null);
  const reader = await member(open, 'reader', null);
  const first = await ask(reader, 'join', 'feed');
  assert.equal(first.offset, 0);
  // Publishers on different connections (and loops) to one room: every subscriber sees
  // offsets 1..N in order, and each publisher's ack names its message's offset.
  const other = await member(open, 'other', null);
  const acks = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    ask(i % 2 ? writer : other, 'publish', { room: 'feed', data: i })));
  assert.deepEqual(acks.map((a) => a.offset).sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i + 1));
  await until(() => reader.inbox.length === 40, 'reader gets 40');
  assert.deepEqual(reader.inbox.map((m) => m.offset), Array.from({ length: 40 }, (_, i) => i + 1));

  // history: since an offset, with a limit.
  const page = await ask(reader, 'history', { room: 'feed', since: 35, limit: 3 });
  assert.equal(page.epoch, first.epoch);
  assert.deepEqual([page.offset, page.truncated], [40, false]);
  assert.deepEqual(page.messages.map((m) => m.offset), [36, 37, 38]);
  const byOffset = new Map(reader.inbox.map((m) => [m.offset, m.data]));
  assert.deepEqual(page.messages.map((m) => m.data), [36, 37, 38].map((o) => byOffset.get(o)));
  assert.equal(page.messages[0].event, 'message');
  assert.equal(typeof page.messages[0].time, 'number');

  // A client that was away since offset 38 catches up as it joins again.
  const late = await member(open, 'late', null);
  const back = await ask(late, 'join', { room: 'feed', since: 38, epoch: first.epoch });
  assert.deepEqual([back.recovered, back.offset], [true, 40]);
  assert.deepEqual(back.messages.map((m) => m.offset), [39, 40]);
  // With another epoch the server says it cannot vouch for continuity.
  const stale = await ask(late, 'join', { room: 'feed', since: 38, epoch: 'other' });
  assert.equal(stale.recovered, false);
});

test('history is bounded (--history-size) and survives a restart with --data-dir', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-history-'));
  try {
    const args = ['--rooms-namespace', '/live', '--history-size', '5', '--data-dir', dataDir];
    let srv = await startServer(args);
    let c = await member(srv, 'p', null);
    for (let i = 1; i <= 8; i++) await ask(c, 'publish', { room: 'kept', data: `m${i}` });
    const before = await ask(c, 'history', { room: 'kept', since: 0 });
    assert.deepEqual(before.messages.map((m) => m.offset), [4, 5, 6, 7, 8]);
    assert.equal(before.truncated, true, 'offsets 1-3 were trimmed');
    c.disconnect();
    await stopServerCleanly(srv);

    srv = await startServer(args);
    try {
      c = await member(srv, 'p', null);
      const afterRestart = await ask(c, 'history', { room: 'kept', since: 5 });
      assert.equal(afterRestart.epoch, before.epoch);
      assert.deepEqual(afterRestart.messages.map((m) => [m.offset, m.data]),
        [[6, 'm6'], [7, 'm7'], [8, 'm8']]);
      assert.deepEqual(await ask(c, 'publish', { room: 'kept', data: 'm9' }), { ok: true, offset: 9 });
      c.disconnect();
    } finally {
      await stopServerCleanly(srv);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('presence: a user with two tabs counts once; join and leave are announced once', async () => {
  const grants = { subscribe: ['team:*'], publish: [] };
  const watcher = await member(server, 'bob', grants);
  await ask(watcher, 'join', 'team:a');
  const events = [];
  watcher.on('presence:join', (e) => events.push(['join', e]));
  watcher.on('presence:leave', (e) => events.push(['leave', e]));

  const info = { name: 'Alice A.' };
  const tab1 = await member(server, 'alice', { ...grants, info });
  const tab2 = await member(server, 'alice', { ...grants, info });
  await ask(tab1, 'join', 'team:a');
  await until(() => events.length === 1, 'presence:join');
  await ask(tab2, 'join', 'team:a');
  let seen = await ask(watcher, 'presence', 'team:a');
  assert.deepEqual(seen, { room: 'team:a', members: [
    { user: 'alice', connections: 2, info },
    { user: 'bob', connections: 1, info: null },
  ] });
  // The first tab goes away: alice is still there.
  tab1.disconnect();
  seen = await ask(watcher, 'presence', 'team:a');
  const connections = () => seen.members.find((m) => m.user === 'alice')?.connections;
  const end = Date.now() + T;
  while (connections() !== 1 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    seen = await ask(watcher, 'presence', 'team:a');
  }
  assert.equal(connections(), 1);
  // The second leaves the room: now alice has left.
  await ask(tab2, 'leave', 'team:a');
  await until(() => events.length === 2, 'presence:leave');
  assert.deepEqual(events, [
    ['join', { room: 'team:a', user: 'alice', info }],
    ['leave', { room: 'team:a', user: 'alice' }],
  ]);
  assert.deepEqual((await ask(watcher, 'presence', 'team:a')).members.map((m) => m.user), ['bob']);
  // Reading presence needs the right to join.
  assert.deepEqual(await ask(watcher, 'presence', 'other'), { error: 'not allowed to read other' });
});
