// The real `relay` binary against the npm `ws` client (and, where `ws` hides what we need to
// see, a raw socket): echo of every size class, fragmentation, ordering, permessage-deflate,
// pub/sub fan-out across loops, close handshake, shutdown, idle timeout and slow consumers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  OP, WebSocket, assertEchoWorks, buildFrame, closePayload, connectWs, describeFrame,
  messageQueue, onceEvent, openWs, parseFrames, startServer, stopServerCleanly, withTimeout,
  wsClosed, wsSend,
} from './helpers.mjs';

const MiB = 1024 * 1024;

// Every ws client a test opens is terminated after it, pass or fail.
const clients = new Set();
afterEach(() => {
  for (const c of clients) c.terminate();
  clients.clear();
});

async function open(url, options = {}) {
  const ws = await openWs(url, { perMessageDeflate: false, ...options });
  clients.add(ws);
  return ws;
}

// Sends one message and returns the echo ({ data, isBinary }).
async function roundTrip(ws, q, data, options = {}, timeoutMs = 5000) {
  await wsSend(ws, data, options);
  return q.next(timeoutMs);
}

describe('ws client: /echo with default limits', () => {
  let server;
  let url;
  before(async () => {
    server = await startServer();
    url = `ws://127.0.0.1:${server.port}/echo`;
  });
  after(() => stopServerCleanly(server));

  it('echoes text, keeping the text opcode', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    for (const text of ['hello', 'κόσμε 🎉 \u{10FFFF}', 'x'.repeat(1000)]) {
      const m = await roundTrip(ws, q, text);
      assert.equal(m.isBinary, false);
      assert.equal(m.data.toString('utf8'), text);
    }
  });

  it('echoes binary, keeping the binary opcode', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    const payload = randomBytes(4096);
    payload[0] = 0xff;  // not valid UTF-8: would fail if treated as text
    const m = await roundTrip(ws, q, payload, { binary: true });
    assert.equal(m.isBinary, true);
    assert.deepEqual(m.data, payload);
  });

  it('echoes empty text and empty binary messages', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    const t = await roundTrip(ws, q, '', { binary: false });
    assert.equal(t.isBinary, false);
    assert.equal(t.data.length, 0);
    const b = await roundTrip(ws, q, Buffer.alloc(0), { binary: true });
    assert.equal(b.isBinary, true);
    assert.equal(b.data.length, 0);
  });

  it('echoes sizes around every length-encoding boundary and 1 MiB', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    const sizes = [1, 124, 125, 126, 127, 65535, 65536, 65537, MiB];
    for (const size of sizes) {
      const bin = randomBytes(size);
      const mb = await roundTrip(ws, q, bin, { binary: true });
      assert.equal(mb.isBinary, true, `binary ${size}`);
      assert.equal(mb.data.length, size, `binary ${size}: length`);
      assert.ok(mb.data.equals(bin), `binary ${size}: content`);
      const text = 'é'.repeat(Math.floor(size / 2)) + (size % 2 ? 'a' : '');  // `size` bytes
      const mt = await roundTrip(ws, q, text, { binary: false });
      assert.equal(mt.isBinary, false, `text ${size}`);
      assert.equal(mt.data.length, size, `text ${size}: length`);
      assert.equal(mt.data.toString('utf8'), text, `text ${size}: content`);
    }
  });

  it('echoes a message of exactly the default limit (16 MiB)', { timeout: 60_000 }, async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    const payload = randomBytes(16 * MiB);
    const m = await roundTrip(ws, q, payload, { binary: true }, 30_000);
    assert.equal(m.isBinary, true);
    assert.equal(m.data.length, payload.length);
    assert.ok(m.data.equals(payload), '16 MiB echo differs');
  });

  it('closes with 1009 a message one byte over the default limit', { timeout: 60_000 }, async () => {
    const ws = await open(url);
    const closed = wsClosed(ws, 30_000);
    ws.on('error', () => {});  // the server may reset while we are still writing
    ws.send(Buffer.alloc(16 * MiB + 1, 0x61), { binary: true });
    const { code } = await closed;
    assert.equal(code, 1009);
    await assertEchoWorks(server.port);
  });

  it('reassembles fragmented messages (text, binary, UTF-8 split across fragments)', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);

    ws.send('Hel', { fin: false });
    ws.send('lo, ', { fin: false });
    ws.send('', { fin: false });
    await wsSend(ws, 'world', { fin: true });
    const t = await q.next();
    assert.equal(t.isBinary, false);
    assert.equal(t.data.toString(), 'Hello, world');

    const parts = [randomBytes(100), randomBytes(70000), randomBytes(1)];
    ws.send(parts[0], { binary: true, fin: false });
    ws.send(parts[1], { binary: true, fin: false });
    await wsSend(ws, parts[2], { binary: true, fin: true });
    const b = await q.next();
    assert.equal(b.isBinary, true);
    assert.deepEqual(b.data, Buffer.concat(parts));

    // "€" is e2 82 ac: cut it between every pair of its bytes.
    const euro = Buffer.from('a€b');
    ws.send(euro.subarray(0, 2), { binary: false, fin: false });
    ws.send(euro.subarray(2, 3), { binary: false, fin: false });
    await wsSend(ws, euro.subarray(3), { binary: false, fin: true });
    const u = await q.next();
    assert.equal(u.isBinary, false);
    assert.equal(u.data.toString(), 'a€b');
  });

  it('keeps 5000 pipelined messages in order', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    const n = 5000;
    for (let i = 0; i < n; i++) {
      if (i % 2) ws.send(`m${i}`);
      else ws.send(Buffer.from(`m${i}`), { binary: true });
    }
    for (let i = 0; i < n; i++) {
      const m = await q.next();
      assert.equal(m.data.toString(), `m${i}`, `message ${i} out of order`);
      assert.equal(m.isBinary, i % 2 === 0, `message ${i}: wrong opcode`);
    }
  });

  it('echoes 1000 to a client close(1000, reason)', async () => {
    const ws = await open(url);
    const closed = wsClosed(ws);
    ws.close(1000, 'bye now');
    assert.equal((await closed).code, 1000);
  });

  it('echoes a 4000-range application close code', async () => {
    const ws = await open(url);
    const closed = wsClosed(ws);
    ws.close(4321, 'app');
    assert.equal((await closed).code, 4321);
  });

  it('accepts a client that offers subprotocols (none selected, echo works)', async () => {
    // The `ws` client aborts when it offered subprotocols and the server picks none ("Server
    // sent no subprotocol"), which is the client's policy, not the server's: use a raw socket.
    const raw = await connectWs(server.port, { protocols: 'chat, superchat' });
    try {
      assert.equal(raw.upgradeResponse.headers['sec-websocket-protocol'], undefined);
      await raw.write(buildFrame({ opcode: OP.TEXT, payload: 'proto' }));
      const m = await raw.readMessage();
      assert.equal(m.payload.toString(), 'proto');
      await raw.write(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
      await raw.expectClose(1000);
    } finally {
      raw.destroy();
    }
  });
});

describe('ws client: permessage-deflate (RFC 7692)', () => {
  let server;
  let port;
  before(async () => {
    server = await startServer();
    port = server.port;
  });
  after(() => stopServerCleanly(server));

  it('negotiates the extension and compresses both ways', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: { threshold: 0 } });
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.match(ws.upgradeHeaders['sec-websocket-extensions'], /^permessage-deflate\b/);
    const q = messageQueue(ws);
    const row = { user: 'alice', room: 'general', text: 'the quick brown fox jumps over it' };
    const text = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ ...row, i })));
    assert.ok(text.length > MiB);
    const sock = ws._socket;  // ws has no public byte counters
    const read0 = sock.bytesRead;
    const written0 = sock.bytesWritten;
    const m = await roundTrip(ws, q, text);
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString(), text);
    assert.ok(sock.bytesWritten - written0 < text.length / 4, 'client did not compress');
    assert.ok(sock.bytesRead - read0 < text.length / 4,
              `server did not compress its echo: ${sock.bytesRead - read0} bytes on the wire ` +
              `for ${text.length}`);
  });

  it('keeps the compression context across many messages, in order', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: { threshold: 0 } });
    const q = messageQueue(ws);
    const n = 500;
    for (let i = 0; i < n; i++) {
      if (i % 3 === 2) ws.send(Buffer.alloc(2000, i & 0xff), { binary: true });
      else ws.send(`message ${i} `.repeat(1 + (i % 50)));
    }
    for (let i = 0; i < n; i++) {
      const m = await q.next();
      if (i % 3 === 2) {
        assert.equal(m.isBinary, true);
        assert.deepEqual(m.data, Buffer.alloc(2000, i & 0xff), `message ${i}`);
      } else {
        assert.equal(m.isBinary, false);
        assert.equal(m.data.toString(), `message ${i} `.repeat(1 + (i % 50)), `message ${i}`);
      }
    }
  });

  it('mixes compressed and uncompressed messages on one connection', async () => {
    // threshold 1024: smaller messages go uncompressed (RSV1 clear), larger compressed.
    const ws = await open(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: { threshold: 1024 } });
    const q = messageQueue(ws);
    const msgs = ['small', 'L'.repeat(5000), 'tiny', 'Z'.repeat(200000), ''];
    for (const s of msgs) ws.send(s);
    for (const s of msgs) assert.equal((await q.next()).data.toString(), s);
  });

  it('inflates compressed fragmented messages', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/echo`, { perMessageDeflate: { threshold: 0 } });
    const q = messageQueue(ws);
    const parts = ['abc'.repeat(3000), 'def'.repeat(3000), 'xyz'];
    ws.send(parts[0], { fin: false, compress: true });
    ws.send(parts[1], { fin: false, compress: true });
    await wsSend(ws, parts[2], { fin: true, compress: true });
    const m = await q.next();
    assert.equal(m.data.toString(), parts.join(''));
  });

  it('with client_no_context_takeover offered, still round-trips', async () => {
    const ws = await open(`ws://127.0.0.1:${port}/echo`,
                          { perMessageDeflate: { threshold: 0, clientNoContextTakeover: true } });
    assert.match(ws.extensions, /permessage-deflate/);
    const q = messageQueue(ws);
    for (let i = 0; i < 5; i++) {
      const s = `round ${i} `.repeat(1000);
      assert.equal((await roundTrip(ws, q, s)).data.toString(), s);
    }
  });
});

describe('ws client: --server-no-context-takeover', () => {
  let server;
  before(async () => {
    server = await startServer(['--server-no-context-takeover']);
  });
  after(() => stopServerCleanly(server));

  it('agrees server_no_context_takeover and round-trips repeated messages', async () => {
    const ws = await open(`ws://127.0.0.1:${server.port}/echo`, { perMessageDeflate: { threshold: 0 } });
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.match(ws.upgradeHeaders['sec-websocket-extensions'],
                 /^permessage-deflate\b.*;\s*server_no_context_takeover\b/);
    const q = messageQueue(ws);
    const s = 'same text every time '.repeat(500);
    for (let i = 0; i < 10; i++) assert.equal((await roundTrip(ws, q, s)).data.toString(), s);
  });
});

describe('ws client: --no-compression', () => {
  let server;
  before(async () => {
    server = await startServer(['--no-compression']);
  });
  after(() => stopServerCleanly(server));

  it('does not negotiate permessage-deflate, and echo still works', async () => {
    const ws = await open(`ws://127.0.0.1:${server.port}/echo`, { perMessageDeflate: true });
    assert.equal(ws.extensions, '');
    assert.equal(ws.upgradeHeaders['sec-websocket-extensions'], undefined);
    const q = messageQueue(ws);
    const s = 'compressible '.repeat(10000);
    assert.equal((await roundTrip(ws, q, s)).data.toString(), s);
  });
});

describe('pub/sub fan-out across 2 loops', () => {
  let server;
  let base;
  before(async () => {
    server = await startServer([], { threads: 2 });
    assert.equal(server.threads, 2);
    base = `ws://127.0.0.1:${server.port}`;
  });
  after(() => stopServerCleanly(server));

  it('every subscriber gets every message exactly once, in order per publisher', { timeout: 60_000 }, async () => {
    // 6 subscribers and 3 publishers on separate connections: SO_REUSEPORT spreads them over
    // both loops, so delivery crosses threads.
    const subs = [];
    for (let i = 0; i < 6; i++) subs.push(await open(`${base}/sub`));
    const pubs = [];
    for (let i = 0; i < 3; i++) pubs.push(await open(`${base}/pub`));
    const pubReceived = [0, 0, 0];
    pubs.forEach((p, i) => p.on('message', () => pubReceived[i]++));
    const queues = subs.map(messageQueue);

    const perPub = 400;
    const payload = (p, i) => `p${p}:${i}:` + 'x'.repeat(i % 300);
    // Publishers interleave; each one's own sequence must stay ordered at every subscriber.
    for (let i = 0; i < perPub; i++) {
      for (let p = 0; p < pubs.length; p++) {
        if (i % 2) pubs[p].send(Buffer.from(payload(p, i)), { binary: true });
        else pubs[p].send(payload(p, i));
      }
    }
    const total = perPub * pubs.length;
    await Promise.all(queues.map(async (q, s) => {
      const next = [0, 0, 0];
      for (let k = 0; k < total; k++) {
        const m = await q.next(20_000);
        const [tag, seq] = m.data.toString().split(':');
        const p = Number(tag.slice(1));
        assert.equal(Number(seq), next[p], `subscriber ${s}: publisher ${p} out of order / duplicated`);
        assert.equal(m.data.toString(), payload(p, next[p]), `subscriber ${s}: payload`);
        assert.equal(m.isBinary, next[p] % 2 === 1, `subscriber ${s}: opcode`);
        next[p]++;
      }
      assert.deepEqual(next, [perPub, perPub, perPub], `subscriber ${s} counts`);
    }));
    // Exactly once: a ping round trip on each subscriber orders after anything the server had
    // already queued for it, so a duplicate would be in the queue by now.
    await Promise.all(subs.map((s) => {
      const pong = onceEvent(s, 'pong', 5000);
      s.ping();
      return pong;
    }));
    queues.forEach((q, s) => assert.equal(q.items.length, 0, `subscriber ${s} got extra messages`));
    assert.deepEqual(pubReceived, [0, 0, 0], 'a publisher received messages');
  });

  it('a subscriber that left gets nothing more; the others keep receiving', async () => {
    const a = await open(`${base}/sub`);
    const b = await open(`${base}/sub`);
    const pub = await open(`${base}/pub`);
    const qa = messageQueue(a);
    const qb = messageQueue(b);
    pub.send('one');
    assert.equal((await qa.next()).data.toString(), 'one');
    assert.equal((await qb.next()).data.toString(), 'one');
    const closed = wsClosed(a);
    a.close(1000);
    assert.equal((await closed).code, 1000);
    pub.send('two');
    assert.equal((await qb.next()).data.toString(), 'two');
  });
});

describe('idle timeout (--idle-timeout 300)', () => {
  let server;
  before(async () => {
    server = await startServer(['--idle-timeout', '300']);
  });
  after(() => stopServerCleanly(server));

  it('pings a silent peer, then drops it when no pong comes', async () => {
    const raw = await connectWs(server.port);
    const t0 = Date.now();
    const ping = await raw.readFrame(3000);
    assert.equal(ping.opcode, OP.PING, `expected a ping, got ${describeFrame(ping)}`);
    assert.ok(ping.fin);
    await raw.waitEnd(3000);
    const elapsed = Date.now() - t0;
    // Ping after one period, drop after the second; allow timer-wheel granularity below.
    assert.ok(elapsed >= 450, `dropped after ${elapsed} ms, before two idle periods`);
    const { frames } = parseFrames(raw.buf);
    for (const f of frames) {
      assert.ok(f.opcode === OP.PING || f.opcode === OP.CLOSE, `unexpected ${describeFrame(f)}`);
    }
  });

  it('keeps a peer that answers pings connected across several periods', async () => {
    const ws = await open(`ws://127.0.0.1:${server.port}/echo`);  // ws answers pings itself
    let closedEarly = null;
    ws.on('close', (code) => {
      closedEarly = code;
    });
    let pings = 0;
    await withTimeout(new Promise((resolve) => {
      ws.on('ping', () => {
        if (++pings === 4) resolve();
      });
    }), 5000, '4 server pings');
    assert.equal(closedEarly, null);
    assert.equal(ws.readyState, WebSocket.OPEN);
    const q = messageQueue(ws);
    assert.equal((await roundTrip(ws, q, 'after idle')).data.toString(), 'after idle');
  });
});

function tcpWmemMax() {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2]) || 0;
  } catch {
    return 0;
  }
}

describe('slow consumer (--max-buffered-bytes 65536 --high-water 16384)', () => {
  let server;
  before(async () => {
    // A long close timeout: the slow subscriber reads its close frame only at the end.
    server = await startServer(['--max-buffered-bytes', '65536', '--high-water', '16384',
                                '--close-timeout', '30000']);
  });
  after(() => stopServerCleanly(server));

  it('closes a subscriber that stops reading with 1008 and keeps serving others', { timeout: 90_000 }, async (t) => {
    const base = `ws://127.0.0.1:${server.port}`;
    const slow = await connectWs(server.port, { path: '/sub' });
    slow.pause();  // never reads while the flood runs
    const healthy = await open(`${base}/sub`);
    const hq = messageQueue(healthy);
    const pub = await open(`${base}/pub`);

    // Enough to overflow the kernel's socket buffers (the server's send buffer grows up to
    // tcp_wmem's max, 4 MiB by default; the receive buffer of a peer that never reads stays
    // small) several times over, sent with a window so the healthy subscriber never has more
    // than ~12 KiB queued.
    const size = 4096;
    const count = Math.ceil(Math.min(48 * MiB, Math.max(12 * MiB, 3 * tcpWmemMax())) / size);
    const window = 3;
    const message = (i) => {
      const b = Buffer.alloc(size, i & 0xff);
      b.writeUInt32BE(i, 0);
      return b;
    };
    let sent = 0;
    for (let got = 0; got < count; got++) {
      while (sent < count && sent - got < window) pub.send(message(sent++), { binary: true });
      const m = await hq.next(10_000);
      assert.equal(m.data.readUInt32BE(0), got, 'healthy subscriber: out of order');
      assert.equal(m.data.length, size);
    }
    assert.equal(healthy.readyState, WebSocket.OPEN, 'healthy subscriber was closed');
    await assertEchoWorks(server.port);

    // Now read everything the slow one was sent: a gap-free prefix of the stream, then 1008.
    slow.resume();
    let next = 0;
    let close = null;
    while (!close) {
      const f = await slow.readFrame(10_000);
      if (f.opcode === OP.CLOSE) {
        close = f;
        break;
      }
      assert.equal(f.opcode, OP.BINARY, `slow subscriber: ${describeFrame(f)}`);
      assert.equal(f.payload.readUInt32BE(0), next, 'slow subscriber: gap or reorder');
      assert.ok(f.payload.equals(message(next)), 'slow subscriber: payload');
      next++;
    }
    assert.equal(close.payload.readUInt16BE(0), 1008,
                 `close ${close.payload.readUInt16BE(0)} ${close.payload.subarray(2)}`);
    assert.ok(next < count, `slow subscriber received all ${count} messages: never cut off`);
    t.diagnostic(`slow subscriber cut off after ${next} of ${count} messages ` +
                 `(${slow.bytesReceived} bytes)`);
    assert.equal(slow.length, 0, 'bytes after the close frame');
    await slow.write(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1008) }));
    await slow.waitEnd(5000);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM sends 1001 to every WebSocket and exits 0', { timeout: 30_000 }, async () => {
    const server = await startServer(['--shutdown-timeout', '5000']);
    let result;
    try {
      const base = `ws://127.0.0.1:${server.port}`;
      const wss = [await open(`${base}/echo`), await open(`${base}/echo`),
                   await open(`${base}/sub`), await open(`${base}/pub`)];
      const closes = wss.map((w) => wsClosed(w, 10_000));
      const raw = await connectWs(server.port);
      result = server.stop({ timeoutMs: 10_000 });
      const f = await raw.readFrame(10_000);
      assert.equal(f.opcode, OP.CLOSE, describeFrame(f));
      assert.equal(f.payload.readUInt16BE(0), 1001);
      await raw.write(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1001) }));
      await raw.waitEnd(5000);
      for (const c of await Promise.all(closes)) assert.equal(c.code, 1001);
      const r = await result;
      assert.equal(r.killed, false, 'relay did not exit within 10 s of SIGTERM');
      assert.equal(r.signal, null);
      assert.equal(r.code, 0, `exit code ${r.code}; stderr: ${r.stderr}`);
    } finally {
      await (result ?? server.stop());
    }
  });

  it('SIGINT exits 0 too', async () => {
    const server = await startServer();
    const ws = await open(`ws://127.0.0.1:${server.port}/echo`);
    const closed = wsClosed(ws, 10_000);
    const r = await server.stop({ signal: 'SIGINT', timeoutMs: 10_000 });
    assert.equal((await closed).code, 1001);
    assert.deepEqual([r.code, r.signal, r.killed], [0, null, false], r.stderr);
  });
});
