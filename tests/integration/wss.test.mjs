// Relay with --tls-cert/--tls-key: everything is TLS (wss://, https://). A throw-away
// self-signed certificate is generated per run; clients verify it (it is their CA), so these
// tests also check that the server presents the configured chain.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  OP, RawSocket, assertEchoWorks, buildFrame, closePayload, connectWs, makeSelfSignedCert, messageQueue, openWs, startServer, stopServerCleanly, withTimeout,
  wsClosed, wsSend,
} from './helpers.mjs';

const MiB = 1024 * 1024;

let cert;
let ca;
before(() => {
  cert = makeSelfSignedCert();
  ca = readFileSync(cert.cert);
});
after(() => cert?.cleanup());

const clients = new Set();
afterEach(() => {
  for (const c of clients) c.terminate();
  clients.clear();
});

async function open(url, options = {}) {
  const ws = await openWs(url, { ca, perMessageDeflate: false, ...options });
  clients.add(ws);
  return ws;
}

function httpsGet(port, path, timeoutMs = 5000) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  }), timeoutMs, `https GET ${path}`);
}

describe('wss:// and https://', () => {
  let server;
  let url;
  before(async () => {
    server = await startServer(['--tls-cert', cert.cert, '--tls-key', cert.key]);
    assert.equal(server.tls, true, 'the listening line does not say TLS');
    url = `wss://127.0.0.1:${server.port}/echo`;
  });
  after(() => stopServerCleanly(server));

  it('echoes text and binary over wss', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    await wsSend(ws, 'hello over tls');
    const t = await q.next();
    assert.equal(t.isBinary, false);
    assert.equal(t.data.toString(), 'hello over tls');
    const bin = randomBytes(70000);
    await wsSend(ws, bin, { binary: true });
    const b = await q.next();
    assert.equal(b.isBinary, true);
    assert.deepEqual(b.data, bin);
  });

  it('echoes 1 MiB and 4 MiB messages (many TLS records, partial writes)', { timeout: 30_000 }, async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    for (const size of [MiB, 4 * MiB]) {
      const bin = randomBytes(size);
      await wsSend(ws, bin, { binary: true });
      const m = await q.next(20_000);
      assert.equal(m.data.length, size);
      assert.ok(m.data.equals(bin), `${size}-byte echo differs`);
    }
  });

  it('keeps 2000 pipelined messages in order', async () => {
    const ws = await open(url);
    const q = messageQueue(ws);
    for (let i = 0; i < 2000; i++) ws.send(`n${i}`);
    for (let i = 0; i < 2000; i++) assert.equal((await q.next()).data.toString(), `n${i}`);
  });

  it('negotiates permessage-deflate over TLS and round-trips compressible text', async () => {
    const ws = await open(url, { perMessageDeflate: { threshold: 0 } });
    assert.match(ws.extensions, /^permessage-deflate\b/);
    const q = messageQueue(ws);
    const text = 'wss and deflate together; '.repeat(40000);
    const sock = ws._socket;  // the TLS socket: counts plaintext bytes of the ws stream
    const read0 = sock.bytesRead;
    await wsSend(ws, text);
    const m = await q.next(10_000);
    assert.equal(m.data.toString(), text);
    assert.ok(sock.bytesRead - read0 < text.length / 4, 'server echo was not compressed');
  });

  it('serves https GET /healthz', async () => {
    const r = await httpsGet(server.port, '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok\n');
  });

  it('answers https GET /echo without upgrade with 426', async () => {
    const r = await httpsGet(server.port, '/echo');
    assert.equal(r.status, 426);
    assert.equal(r.headers['sec-websocket-version'], '13');
  });

  it('fails a protocol error over TLS with exactly 1002, then closes', async () => {
    const raw = await connectWs(server.port, { tls: true, ca });
    await raw.write(buildFrame({ opcode: OP.TEXT, payload: 'x', rsv2: true }));
    await raw.expectClose(1002);
    await assertEchoWorks(server.port, { tls: true, ca });
  });

  it('answers a close handshake over TLS', async () => {
    const raw = await connectWs(server.port, { tls: true, ca });
    await raw.write(buildFrame({ opcode: OP.TEXT, payload: 'a', fin: false }));
    await raw.write(buildFrame({ opcode: OP.CONT, payload: 'b', fin: true }));
    const m = await raw.readMessage();
    assert.equal(m.payload.toString(), 'ab');
    await raw.write(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000, 'done') }));
    await raw.expectClose(1000);
  });

  it('delivers pub/sub over TLS', async () => {
    const base = `wss://127.0.0.1:${server.port}`;
    const subs = [await open(`${base}/sub`), await open(`${base}/sub`)];
    const pub = await open(`${base}/pub`);
    const qs = subs.map(messageQueue);
    for (let i = 0; i < 100; i++) pub.send(`tls ${i}`);
    for (const q of qs) {
      for (let i = 0; i < 100; i++) assert.equal((await q.next()).data.toString(), `tls ${i}`);
    }
  });

  it('does not answer plaintext HTTP on the TLS port', async () => {
    const raw = await RawSocket.connect(server.port);
    try {
      await raw.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const got = await raw.readToEnd(5000);
      assert.ok(!got.toString('latin1').startsWith('HTTP/'),
                `plaintext response on a TLS port: ${JSON.stringify(got.toString('latin1'))}`);
    } finally {
      raw.destroy();
    }
    await assertEchoWorks(server.port, { tls: true, ca });
  });
});

describe('wss:// shutdown', () => {
  it('SIGTERM closes wss clients with 1001 and exits 0', { timeout: 30_000 }, async () => {
    const server = await startServer(['--tls-cert', cert.cert, '--tls-key', cert.key]);
    let stopped;
    try {
      const ws = await open(`wss://127.0.0.1:${server.port}/echo`);
      const closed = wsClosed(ws, 10_000);
      stopped = server.stop({ timeoutMs: 10_000 });
      assert.equal((await closed).code, 1001);
      const r = await stopped;
      assert.deepEqual([r.code, r.signal, r.killed], [0, null, false], r.stderr);
    } finally {
      await (stopped ?? server.stop());
    }
  });

  it('refuses to start with a missing key file', async () => {
    await assert.rejects(startServer(['--tls-cert', cert.cert, '--tls-key', `${cert.dir}/nope.pem`]),
                         /exited before listening/);
  });
});
