// GET /metrics of `relay serve`: the counters move as the official socket.io-client connects,
// publishes and is refused, and Debian prometheus's `promtool check metrics` accepts the text
// as a scraper would see it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import jwt from 'jsonwebtoken';
import { io } from 'socket.io-client';

import { HOST, onceEvent, startServer, stopServerCleanly, withTimeout } from './helpers.mjs';

const T = 5000;
const SECRET = 'metrics secret';
let server;
const clients = [];

before(async () => {
  server = await startServer(['--rooms-namespace', '/live', '--jwt-secret', SECRET,
    '--api-key', 'k', '--max-connections-per-user', '1',
    '--set', 'namespaces./live.presence=false']);  // presence events would add to the counts
});

after(async () => {
  for (const c of clients) c.disconnect();
  await stopServerCleanly(server);
});

async function scrape() {
  const res = await fetch(`http://${HOST}:${server.port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return res.text();
}

// "name{labels}" -> value
function samples(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function connect(opts) {
  const c = io(`http://${HOST}:${server.port}/live`,
    { reconnection: false, forceNew: true, ...opts });
  clients.push(c);
  return c;
}

const token = (sub, extra = {}) => jwt.sign({ sub, relay: { subscribe: ['ok:*'], publish: ['ok:*'] },
  ...extra }, SECRET, { expiresIn: '5m' });

test('counters follow connections, traffic and refusals; promtool accepts the text', async () => {
  const before = samples(await scrape());
  const zero = (k) => before.get(k) ?? 0;

  const alice = connect({ auth: { token: token('alice') }, transports: ['websocket'] });
  const bob = connect({ auth: { token: token('bob') } });  // polling first, then upgrade
  // Both listeners first: bob may connect while alice's connect is awaited.
  await Promise.all([onceEvent(alice, 'connect', T), onceEvent(bob, 'connect', T)]);
  await withTimeout(alice.emitWithAck('join', 'ok:1'), T, 'join');
  await withTimeout(bob.emitWithAck('join', 'ok:1'), T, 'join');
  const heard = onceEvent(bob, 'message', T);
  assert.equal((await withTimeout(alice.emitWithAck('publish', { room: 'ok:1', data: 1 }), T,
    'publish')).ok, true);
  await heard;
  // Refusals: a room outside the grants, an expired token, a second connection of alice.
  assert.ok((await withTimeout(alice.emitWithAck('join', 'secret'), T, 'join')).error);
  const expired = connect({ auth: { token: jwt.sign({ sub: 'x', exp: 1 }, SECRET) } });
  assert.equal((await onceEvent(expired, 'connect_error', T))[0].message, 'token expired');
  const again = connect({ auth: { token: token('alice') } });
  assert.equal((await onceEvent(again, 'connect_error', T))[0].message,
    'too many connections for this user');
  // A publish over the HTTP API (listening first: the message may beat the HTTP answer).
  const second = onceEvent(bob, 'message', T);
  const r = await fetch(`http://${HOST}:${server.port}/api/publish`, { method: 'POST',
    headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ room: 'ok:1', data: 2 }) });
  assert.equal(r.status, 200);
  await second;

  // The refused clients close their Engine.IO sessions a moment after connect_error.
  await connectionsBecome(2);
  const text = await scrape();
  const now = samples(text);
  const grew = (k) => (now.get(k) ?? 0) - zero(k);
  assert.equal(now.get('relay_connections{protocol="socketio"}'), 2, text);
  // alice came over WebSocket, bob over polling and then upgraded.
  assert.equal(now.get('relay_socketio_connections{transport="websocket"}'), 2, text);
  assert.equal(now.get('relay_socketio_connections{transport="polling"}'), 0, text);
  assert.ok(grew('relay_socketio_handshakes_total{transport="websocket"}') >= 1);
  assert.ok(grew('relay_socketio_handshakes_total{transport="polling"}') >= 3);
  assert.equal(grew('relay_messages_received_total{namespace="/live"}'), 4);  // 3 joins, 1 publish
  // Acks are not events; the two messages reach alice once and bob twice (broadcast copies).
  assert.equal(grew('relay_messages_sent_total{namespace="/live"}'), 4);
  // Each is one packet like 2/live,["message",{"room":"ok:1","data":1,"from":"alice","offset":1}].
  // 3 joins and a publish, each like 42/live,0["join","ok:1"] (CONNECTs come before a socket).
  const receivedBytes = grew('relay_received_bytes_total{namespace="/live"}');
  assert.ok(receivedBytes >= 4 * 20 && receivedBytes <= 4 * 60, `received bytes ${receivedBytes}`);
  const sentBytes = grew('relay_sent_bytes_total{namespace="/live"}');
  assert.ok(sentBytes >= 4 * 55 && sentBytes <= 4 * 80, `sent bytes ${sentBytes}`);
  assert.equal(grew('relay_broadcast_recipients_total'), 4);
  assert.equal(grew('relay_publishes_total{source="socketio"}'), 1);
  assert.equal(grew('relay_publishes_total{source="http"}'), 1);
  assert.equal(grew('relay_publish_delivery_seconds_count'), 2);
  assert.equal(grew('relay_limit_hits_total{kind="permission"}'), 1);
  assert.equal(grew('relay_limit_hits_total{kind="connections_per_user"}'), 1);
  assert.equal(grew('relay_auth_refusals_total{code="expired"}'), 1);
  assert.equal(now.get('relay_history_messages'), 2);
  assert.equal(now.get('relay_presence_members'), 0, 'presence is off on /live');
  assert.equal(grew('relay_api_requests_total{endpoint="/api/publish"}'), 1);

  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.error, undefined, 'promtool must be installed (Debian prometheus)');
  assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  assert.equal((lint.stdout + lint.stderr).trim(), '');

  alice.disconnect();
  bob.disconnect();
  await connectionsBecome(0);
});

async function connectionsBecome(n) {
  const end = Date.now() + T;
  let seen;
  while ((seen = samples(await scrape()).get('relay_connections{protocol="socketio"}')) !== n) {
    assert.ok(Date.now() < end, `connections gauge ${seen}, not ${n}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
