// The HTTP API of `relay serve` (--api-key), driven with node's fetch as a backend would, with
// the official socket.io-client as subscribers on a rooms namespace: publish (one room, many,
// custom events, idempotency keys), broadcast, history, disconnect by user, stats, and a JSON
// error with the right status for each kind of bad request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until as untilWithin, withTimeout } from
  './helpers.mjs';

const T = 5000;
const KEY = 'backend-key-1';
const SECRET = 'api test secret';
let server;
let closed;  // no API key: the API is off
const clients = [];

before(async () => {
  server = await startServer(['--rooms-namespace', '/live', '--api-key', KEY,
    '--api-key', 'backend-key-2', '--jwt-secret', SECRET]);
  closed = await startServer(['--rooms-namespace', '/live']);
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
  await stopServerCleanly(closed);
});

function api(path, { method = 'GET', body, key = KEY, headers = {}, srv = server } = {}) {
  const h = { ...headers };
  if (key) h.Authorization = `Bearer ${key}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  return fetch(`http://${HOST}:${srv.port}${path}`, {
    method, headers: h, body: typeof body === 'string' ? body : JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, headers: res.headers, body: await res.json() }));
}

async function subscriber(user, rooms) {
  const token = jwt.sign({ sub: user, relay: { subscribe: ['*'], publish: [] } }, SECRET,
    { expiresIn: '5m' });
  const c = io(`http://${HOST}:${server.port}/live`,
    { reconnection: false, forceNew: true, transports: ['websocket'], auth: { token } });
  clients.push(c);
  await onceEvent(c, 'connect', T, `${user} connect`);
  c.got = [];
  // Everything but presence (each subscriber's own join is announced to it; tested elsewhere).
  c.onAny((event, payload) => {
    if (!event.startsWith('presence:')) c.got.push([event, payload]);
  });
  for (const room of rooms) {
    const ack = await withTimeout(c.emitWithAck('join', room), T, 'join');
    assert.equal(ack.ok, true);
  }
  return c;
}

const settle = () => new Promise((r) => setTimeout(r, 150));
const until = (pred, what) => untilWithin(pred, T, what);

test('API keys: none or a wrong one is 401; Bearer and X-API-Key pass; no keys, no API', async () => {
  assert.equal((await api('/api/stats', { key: null })).status, 401);
  const wrong = await api('/api/stats', { key: 'backend-key-3' });
  assert.deepEqual([wrong.status, wrong.body.code], [401, 'unauthorized']);
  assert.equal((await api('/api/stats')).status, 200);
  assert.equal((await api('/api/stats', { key: 'backend-key-2' })).status, 200);
  assert.equal((await api('/api/stats', { key: null, headers: { 'X-API-Key': KEY } })).status, 200);
  const off = await fetch(`http://${HOST}:${closed.port}/api/stats`,
    { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(off.status, 404);
});

test('publish reaches the room members with offsets, and lands in history', async () => {
  const alice = await subscriber('alice', ['chat:1']);
  const bob = await subscriber('bob', ['chat:2']);
  let r = await api('/api/publish', { method: 'POST', body: { room: 'chat:1', data: { n: 1 } } });
  // The answer names each message's offset and its history's epoch (the room's owner loop
  // appended it before the answer).
  const epochs = (body) => body.results.map(({ epoch, ...rest }) => {
    assert.match(epoch, /^\S+$/);
    return rest;
  });
  assert.equal(r.status, 200);
  assert.deepEqual(epochs(r.body), [{ room: 'chat:1', offset: 1 }]);
  r = await api('/api/publish', { method: 'POST',
    body: { rooms: ['chat:1', 'chat:2'], event: 'alert', data: 'both', from: 'ops' } });
  assert.deepEqual(epochs(r.body), [{ room: 'chat:1', offset: 2 }, { room: 'chat:2', offset: 1 }]);
  await until(() => alice.got.length === 2 && bob.got.length === 1, 'deliveries');
  assert.deepEqual(alice.got, [
    ['message', { room: 'chat:1', data: { n: 1 }, from: null, offset: 1 }],
    ['alert', { room: 'chat:1', data: 'both', from: 'ops', offset: 2 }],
  ]);
  assert.deepEqual(bob.got, [['alert', { room: 'chat:2', data: 'both', from: 'ops', offset: 1 }]]);

  const h = await api('/api/history/chat%3A1?since=1&limit=10');
  assert.equal(h.status, 200);
  assert.deepEqual([h.body.room, h.body.offset, h.body.truncated], ['chat:1', 2, false]);
  assert.deepEqual(h.body.messages.map((m) => [m.offset, m.event, m.data, m.from]),
    [[2, 'alert', 'both', 'ops']]);
  const all = await api('/api/history/chat:1');
  assert.equal(all.body.messages.length, 2);
  const unknown = await api('/api/history/nothing-here');
  assert.deepEqual([unknown.body.offset, unknown.body.messages], [0, []]);
});

test('a publish to many rooms answers with every offset, whichever loop owns each room',
  async () => {
    // 20 rooms over the server's 2 loops: some are this connection's loop's, some another's
    // (the answer then waits for that loop).
    const rooms = Array.from({ length: 20 }, (_, i) => `spread:${i}`);
    for (const round of [1, 2]) {
      const r = await api('/api/publish', { method: 'POST', body: { rooms, data: round } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.results.map((x) => [x.room, x.offset]),
        rooms.map((room) => [room, round]));
    }
    const h = await api('/api/history/spread:7');
    assert.deepEqual(h.body.messages.map((m) => [m.offset, m.data]), [[1, 1], [2, 2]]);
  });

test('a retried publish with the same idempotency key is delivered once', async () => {
  const carol = await subscriber('carol', ['orders']);
  const body = { room: 'orders', data: { id: 42 }, idempotency_key: 'order-42' };
  const first = await api('/api/publish', { method: 'POST', body });
  const again = await api('/api/publish', { method: 'POST', body });
  assert.deepEqual([first.status, again.status], [200, 200]);
  assert.deepEqual(again.body, first.body);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  // The key may also come as a header; another key publishes again.
  const viaHeader = { room: 'orders', data: { id: 43 } };
  await api('/api/publish', { method: 'POST', body: viaHeader, headers: { 'Idempotency-Key': 'o-43' } });
  await api('/api/publish', { method: 'POST', body: viaHeader, headers: { 'Idempotency-Key': 'o-43' } });
  await until(() => carol.got.length >= 2, 'two deliveries');
  await settle();
  assert.deepEqual(carol.got.map(([, m]) => m.data.id), [42, 43]);
  const h = await api('/api/history/orders');
  assert.deepEqual(h.body.messages.map((m) => m.data.id), [42, 43]);
});

test('racing first attempts with one idempotency key publish once', async () => {
  // Forty at once, on as many connections (and loops): one publishes; the others get its
  // answer, or 409 while it is still in flight. The window between claim and answer is short,
  // so this run rarely overlaps two first attempts; the unit test
  // IdempotencyCache.OneClaimPerKeyTheOthersWaitForItsAnswer pins the claim itself.
  // A hundred rooms keep the first one in flight for a while (both loops append their share).
  const rooms = Array.from({ length: 100 }, (_, i) => `race:${i}`);
  const body = { rooms, data: 'once', idempotency_key: 'race-1' };
  const all = await Promise.all(Array.from({ length: 40 }, () =>
    api('/api/publish', { method: 'POST', body, headers: { Connection: 'close' } })));
  const statuses = all.map((r) => r.status);
  assert.ok(statuses.every((s) => s === 200 || s === 409), `statuses ${statuses}`);
  const answered = all.filter((r) => r.status === 200);
  assert.equal(answered.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1,
    'exactly one request published');
  for (const r of answered) assert.deepEqual(r.body, answered[0].body);
  for (const r of all.filter((x) => x.status === 409)) {
    assert.equal(r.body.code, 'idempotency_key_in_progress');
    assert.equal(r.headers.get('retry-after'), '1');
  }
  for (const room of [rooms[0], rooms[57], rooms[99]]) {
    const h = await api(`/api/history/${room}`);
    assert.deepEqual(h.body.messages.map((m) => m.data), ['once'], room);
  }
});

test('broadcast reaches every socket; disconnect by user takes only that user', async () => {
  const dave = await subscriber('dave', []);
  const erin = await subscriber('erin', []);
  const r = await api('/api/broadcast', { method: 'POST', body: { event: 'notice', data: 'all' } });
  assert.deepEqual([r.status, r.body], [200, { ok: true }]);
  await until(() => dave.got.length === 1 && erin.got.length === 1, 'broadcast');
  assert.deepEqual(dave.got[0], ['notice', 'all']);

  // Presence over the API: dave and erin joined no room; erin joins one.
  await withTimeout(erin.emitWithAck('join', 'lounge'), T, 'join');
  const p = await api('/api/presence/lounge');
  assert.deepEqual([p.status, p.body], [200, { room: 'lounge',
    members: [{ user: 'erin', connections: 1, info: null }] }]);
  assert.deepEqual((await api('/api/presence/empty')).body, { room: 'empty', members: [] });

  const gone = onceEvent(dave, 'disconnect', T, 'dave disconnect');
  assert.deepEqual((await api('/api/disconnect', { method: 'POST', body: { user: 'dave' } })).body,
    { ok: true });
  assert.equal((await gone)[0], 'io server disconnect');
  await settle();
  assert.equal(erin.connected, true);
});

test('bad requests get a JSON error with their status; the server keeps serving', async () => {
  const cases = [
    [{ method: 'POST', body: 'not json' }, '/api/publish', 400, 'bad_json'],
    [{ method: 'POST', body: { data: 1 } }, '/api/publish', 400, 'bad_room'],
    [{ method: 'POST', body: { room: '', data: 1 } }, '/api/publish', 400, 'bad_room'],
    [{ method: 'POST', body: { room: 'x'.repeat(201) } }, '/api/publish', 400, 'bad_room'],
    [{ method: 'POST', body: { rooms: 'a' } }, '/api/publish', 400, 'bad_room'],
    [{ method: 'POST', body: { room: 'a', event: 'disconnect' } }, '/api/publish', 400, 'bad_event'],
    [{ method: 'POST', body: { room: 'a', event: 'token:expired' } }, '/api/publish', 400,
      'bad_event'],
    [{ method: 'POST', body: { user: 7 } }, '/api/disconnect', 400, 'bad_user'],
    [{}, '/api/publish', 405, 'method_not_allowed'],
    [{ method: 'POST', body: {} }, '/api/stats', 405, 'method_not_allowed'],
    [{}, '/api/history/a?since=x', 400, 'bad_query'],
    [{}, '/api/history/%zz', 400, 'bad_room'],
    [{}, '/api/nope', 404, 'not_found'],
  ];
  for (const [opts, path, status, code] of cases) {
    const r = await api(path, opts);
    assert.deepEqual([r.status, r.body.code], [status, code], `${path} ${JSON.stringify(opts)}`);
    assert.equal(typeof r.body.error, 'string');
  }
  assert.equal((await api('/api/stats')).status, 200);
});

test('stats count the history', async () => {
  const s = await api('/api/stats');
  assert.ok(s.body.history.rooms >= 3 && s.body.history.entries >= 5, JSON.stringify(s.body));
  assert.ok(s.body.idempotency_keys >= 2);
});
