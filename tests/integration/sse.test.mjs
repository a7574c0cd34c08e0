// SSE on the rooms of `relay serve` (GET /sse?rooms=a,b) with the npm `eventsource` client:
// the same messages Socket.IO members get, ids that are stream positions, resume with
// Last-Event-ID from the history (also across a restart with --data-dir, through the client's
// own reconnect), the JWT rules of the Socket.IO handshake, heartbeats.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { EventSource } from 'eventsource';
import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, until, withTimeout } from './helpers.mjs';

const T = 5000;
const SECRET = 'sse secret';
const KEY = 'sse-api-key';
const dataDir = mkdtempSync(join(tmpdir(), 'relay-sse-'));
const ARGS = ['--rooms-namespace', '/live', '--jwt-secret', SECRET, '--api-key', KEY,
  '--data-dir', dataDir, '--set', 'sse.heartbeat=1s'];
let server;
const sources = [];
const clients = [];

before(async () => {
  server = await startServer(ARGS);
});

after(async () => {
  for (const s of sources) s.close();
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
  rmSync(dataDir, { recursive: true, force: true });
});

const token = (sub, subscribe, publish = []) =>
  jwt.sign({ sub, relay: { subscribe, publish } }, SECRET, { expiresIn: '10m' });

// An EventSource sending the token as a Bearer header (the npm client lets fetch be wrapped).
function open(rooms, tok, extraHeaders = {}) {
  const url = `http://${HOST}:${server.port}/sse?rooms=${rooms.map(encodeURIComponent).join(',')}`;
  const es = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init,
      headers: { ...init.headers, Authorization: `Bearer ${tok}`, ...extraHeaders } }),
  });
  es.got = [];
  const record = (e) => es.got.push({ event: e.type, id: e.lastEventId, data: JSON.parse(e.data) });
  es.addEventListener('message', record);
  es.addEventListener('alert', record);
  sources.push(es);
  return es;
}

const opened = (es) => withTimeout(new Promise((resolve, reject) => {
  es.onopen = resolve;
  es.onerror = (e) => reject(new Error(`EventSource error ${e.code ?? ''} ${e.message ?? ''}`));
}), T, 'EventSource open');

async function publish(room, data, event) {
  const res = await fetch(`http://${HOST}:${server.port}/api/publish`, { method: 'POST',
    headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ room, data, event }) });
  assert.equal(res.status, 200);
}

test('tokens and grants: 401 without a token, 403 outside the grants, 400 for bad rooms', async () => {
  const get = (query, headers = {}) => fetch(`http://${HOST}:${server.port}/sse?${query}`,
    { headers }).then(async (r) => [r.status, (await r.json()).code]);
  assert.deepEqual(await get('rooms=news:1'), [401, 'token_required']);
  assert.deepEqual(await get(`rooms=news:1&token=${token('a', ['*'])}`), [401, 'token_in_query']);
  assert.deepEqual(await get('rooms=news:1', { Authorization: `Bearer ${token('a', ['chat:*'])}` }),
    [403, 'not_allowed']);
  assert.deepEqual(await get('rooms=', { Authorization: `Bearer ${token('a', ['*'])}` }),
    [400, 'bad_rooms']);
  assert.deepEqual(await get('rooms=a%zz', { Authorization: `Bearer ${token('a', ['*'])}` }),
    [400, 'bad_rooms']);
  const expired = jwt.sign({ sub: 'a', exp: 1 }, SECRET);
  assert.deepEqual(await get('rooms=news:1', { Authorization: `Bearer ${expired}` }),
    [401, 'expired']);
});

test('SSE and Socket.IO members of a room get the same messages; ids are positions', async () => {
  const es = open(['news:1', 'news:2'], token('reader', ['news:*']));
  await opened(es);
  const member = io(`http://${HOST}:${server.port}/live`, { reconnection: false, forceNew: true,
    transports: ['websocket'], auth: { token: token('writer', ['news:*'], ['news:*']) } });
  clients.push(member);
  await onceEvent(member, 'connect', T);
  await withTimeout(member.emitWithAck('join', 'news:1'), T, 'join');
  const heard = onceEvent(member, 'message', T);

  await publish('news:1', { n: 1 });
  await withTimeout(member.emitWithAck('publish', { room: 'news:2', data: 'from socket' }), T,
    'publish');
  await publish('news:1', 'alarm', 'alert');
  await until(() => es.got.length === 3, T, 'three SSE events');
  assert.deepEqual((await heard)[0], { room: 'news:1', data: { n: 1 }, from: null, offset: 1 });
  assert.deepEqual(es.got, [
    { event: 'message', id: '1,0', data: { room: 'news:1', data: { n: 1 }, from: null, offset: 1 } },
    { event: 'message', id: '1,1',
      data: { room: 'news:2', data: 'from socket', from: 'writer', offset: 1 } },
    { event: 'alert', id: '2,1', data: { room: 'news:1', data: 'alarm', from: null, offset: 2 } },
  ]);
  es.close();
});

test('Last-Event-ID resumes from the history; a heartbeat comment comes every second', async () => {
  await publish('feed', 'a');
  await publish('feed', 'b');
  await publish('feed', 'c');
  const es = open(['feed'], token('late', ['*']), { 'Last-Event-ID': '1' });
  await opened(es);
  await until(() => es.got.length === 2, T, 'replay');
  assert.deepEqual(es.got.map((e) => [e.id, e.data.data]), [['2', 'b'], ['3', 'c']]);
  await publish('feed', 'd');
  await until(() => es.got.length === 3, T, 'live after replay');
  assert.deepEqual(es.got[2].id, '4');
  es.close();

  // The raw stream: headers, retry, and ": ping" within the heartbeat.
  const res = await fetch(`http://${HOST}:${server.port}/sse?rooms=feed`,
    { headers: { Authorization: `Bearer ${token('raw', ['*'])}` } });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const reader = res.body.getReader();
  let text = '';
  await withTimeout((async () => {
    while (!text.includes(': ping')) text += new TextDecoder().decode((await reader.read()).value);
  })(), 3000, 'heartbeat');
  assert.match(text, /^retry: \d+\n\n/);
  await reader.cancel();
});

test('the client reconnects by itself after a restart and misses nothing (--data-dir)', async () => {
  const es = open(['durable'], token('d', ['*']));
  await opened(es);
  await publish('durable', 1);
  await until(() => es.got.length === 1, T, 'first');
  const port = server.port;
  await stopServerCleanly(server);
  server = await startServer([...ARGS, '--port', String(port)]);
  // Published while the client was away: it reconnects with Last-Event-ID "1" and gets them.
  await publish('durable', 2);
  await publish('durable', 3);
  await until(() => es.got.length === 3, 10_000, 'the missed two after the reconnect');
  assert.deepEqual(es.got.map((e) => [e.id, e.data.data]), [['1', 1], ['2', 2], ['3', 3]]);
  await publish('durable', 4);
  await until(() => es.got.length === 4, T, 'live again');
  es.close();
});
