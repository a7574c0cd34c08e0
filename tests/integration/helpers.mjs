// Shared helpers for Relay's integration tests: start/stop the real `relay` binary, speak
// RFC 6455 by hand over a raw TCP (or TLS) socket, and wrap the npm `ws` client with bounded
// waits. Every wait here has a timeout; nothing synchronizes by sleeping.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

import WebSocket from 'ws';

export { WebSocket };

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_ROOT = path.resolve(here, '..', '..');
// CTest passes the binary it built; by hand, the release build's.
export const RELAY_BIN = process.env.RELAY_BIN ??
  [path.join(SOURCE_ROOT, 'build', 'release', 'relay'),
   path.join(SOURCE_ROOT, 'build', 'release', 'src', 'app', 'relay')].find((p) => existsSync(p)) ??
  path.join(SOURCE_ROOT, 'build', 'release', 'relay');
export const HOST = '127.0.0.1';
export const DEFAULT_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Generic waiting

export class TimeoutError extends Error {}

// Resolves/rejects like `promise`, or rejects with a TimeoutError naming `what` after `ms`.
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls predicate every 10 ms until it holds; rejects after ms (and stops polling then, so a
// failed test does not keep the process alive).
export async function until(predicate, ms, what) {
  let timer;
  try {
    await withTimeout(new Promise((resolve) => {
      const check = () => {
        if (predicate()) resolve(); else timer = setTimeout(check, 10);
      };
      check();
    }), ms, what);
  } finally {
    clearTimeout(timer);
  }
}

// The first `event` from `emitter` (its arguments as an array), or a timeout.
export function onceEvent(emitter, event, ms, what = event) {
  return withTimeout(
    new Promise((resolve) => emitter.once(event, (...args) => resolve(args))),
    ms,
    what,
  );
}

// ---------------------------------------------------------------------------------------------
// The server process

const liveServers = new Set();

// Last resort: never leave a relay behind, even if a test file dies before its after() hooks.
process.on('exit', () => {
  for (const s of liveServers) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

const LISTENING = /^listening on 127\.0\.0\.1:(\d+) \((\d+) threads?(, TLS)?\)$/;

// Spawns `relay serve --host 127.0.0.1 --port 0 --threads 2 ...args` and waits for its
// "listening on" line. Returns { port, proc, tls, output(), stop() }.
// stop({ signal, timeoutMs }) sends SIGTERM (default), waits for the exit and returns
// { code, signal, stdout, stderr }; past timeoutMs it SIGKILLs and returns { ..., killed: true }.
// { bin, argv } run another program that prints the same line (the examples' servers); env adds
// variables to the inherited environment.
export async function startServer(args = [], { threads = 2, timeoutMs = 10_000, bin = RELAY_BIN,
                                               argv: fullArgv, env } = {}) {
  const argv = fullArgv ??
    ['serve', '--host', HOST, '--port', '0', '--threads', String(threads), ...args];
  const proc = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'],
                                  env: env ? { ...process.env, ...env } : process.env });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const server = { proc, port: 0, tls: false };
  liveServers.add(server);
  exited.then(() => liveServers.delete(server));

  const ready = new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.stdout.on('data', (d) => {
      stdout += d;
      for (const line of stdout.split('\n')) {
        const m = LISTENING.exec(line.trim());
        if (m) resolve({ port: Number(m[1]), threads: Number(m[2]), tls: Boolean(m[3]) });
      }
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`${bin} exited before listening (code ${code}, signal ${signal})\n` +
                       `argv: ${argv.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`)),
    );
  });
  let info;
  try {
    info = await withTimeout(ready, timeoutMs, `relay ${argv.join(' ')} to print "listening on"`);
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    throw err;
  }
  server.port = info.port;
  server.tls = info.tls;
  server.threads = info.threads;
  server.exited = exited;
  server.output = () => ({ stdout, stderr });
  let stopping = null;
  server.stop = ({ signal = 'SIGTERM', timeoutMs: stopMs = 8000 } = {}) => {
    if (stopping) return stopping;
    stopping = (async () => {
      const alreadyExited = proc.exitCode !== null || proc.signalCode !== null;
      if (!alreadyExited) proc.kill(signal);
      let killed = false;
      let result;
      try {
        result = await withTimeout(exited, stopMs, `relay to exit after ${signal}`);
      } catch {
        killed = true;
        proc.kill('SIGKILL');
        result = await exited;
      }
      return { ...result, killed, alreadyExited, stdout, stderr };
    })();
    return stopping;
  };
  return server;
}

// For after() hooks: stops the server and fails if it did not exit cleanly (code 0 on SIGTERM).
export async function stopServerCleanly(server) {
  if (!server) return;
  destroyAllRaw();
  const r = await server.stop();
  if (r.alreadyExited) {
    throw new Error(`relay exited on its own before the tests ended: code ${r.code}, signal ` +
                    `${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  if (r.killed || r.code !== 0 || r.signal !== null) {
    throw new Error(`relay did not exit cleanly: code ${r.code}, signal ${r.signal}, ` +
                    `killed ${r.killed}\nstderr: ${r.stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------
// TLS material

// A throw-away self-signed EC certificate for 127.0.0.1/localhost in a temp dir.
// Returns { dir, cert, key, certPem, cleanup() }.
export function makeSelfSignedCert() {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-wss-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(process.env.OPENSSL ?? 'openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  return {
    dir,
    cert,
    key,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Frames (RFC 6455 §5.2)

export const OP = Object.freeze({
  CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xA,
});

export function toBuffer(data) {
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(data);
}

// Builds one client frame. Options:
//   opcode (default TEXT), payload (string/Buffer/array), fin (true), rsv1/rsv2/rsv3 (false),
//   mask (true), maskKey (4 bytes, random by default),
//   lengthForm: undefined = minimal, or 7 / 16 / 64 to force an encoding (non-minimal allowed),
//   declaredLength: number|bigint written in the length field instead of payload.length
//     (the payload bytes are still appended as given: for header-only or lying frames).
export function buildFrame({
  opcode = OP.TEXT, payload, fin = true, rsv1 = false, rsv2 = false, rsv3 = false,
  mask = true, maskKey, lengthForm, declaredLength,
} = {}) {
  const body = toBuffer(payload);
  const len = declaredLength === undefined ? BigInt(body.length) : BigInt(declaredLength);
  let form = lengthForm;
  if (form === undefined) form = len < 126n ? 7 : len < 65536n ? 16 : 64;
  const head = [
    (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | (opcode & 0x0f),
  ];
  const maskBit = mask ? 0x80 : 0;
  let ext;
  if (form === 7) {
    if (len > 125n) throw new Error(`length ${len} does not fit the 7-bit form`);
    head.push(maskBit | Number(len));
    ext = Buffer.alloc(0);
  } else if (form === 16) {
    if (len > 0xffffn) throw new Error(`length ${len} does not fit the 16-bit form`);
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else if (form === 64) {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  } else {
    throw new Error(`bad lengthForm ${form}`);
  }
  const parts = [Buffer.from(head), ext];
  if (mask) {
    const key = maskKey ? Buffer.from(maskKey) : randomBytes(4);
    const masked = Buffer.alloc(body.length);
    for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ key[i & 3];
    parts.push(key, masked);
  } else {
    parts.push(body);
  }
  return Buffer.concat(parts);
}

// Close frame payload: 2-byte code + reason (string or raw bytes).
export function closePayload(code, reason = '') {
  const r = toBuffer(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

// Parses one frame from the start of buf. Returns null if incomplete, else
// { fin, rsv1, rsv2, rsv3, opcode, masked, length, payload, size } (payload unmasked).
export function parseFrame(buf) {
  if (buf.length < 2) return null;
  const b0 = buf[0];
  const b1 = buf[1];
  let len = b1 & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`server sent 64-bit length ${big}`);
    len = Number(big);
    off = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  let key;
  if (masked) {
    if (buf.length < off + 4) return null;
    key = buf.subarray(off, off + 4);
    off += 4;
  }
  if (buf.length < off + len) return null;
  let payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
  return {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    length: len,
    payload,
    size: off + len,
  };
}

// All complete frames in buf; { frames, rest }.
export function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    const f = parseFrame(buf.subarray(off));
    if (!f) break;
    frames.push(f);
    off += f.size;
  }
  return { frames, rest: buf.subarray(off) };
}

export function describeFrame(f) {
  if (!f) return 'no frame';
  const extra = f.opcode === OP.CLOSE && f.payload.length >= 2
    ? ` code=${f.payload.readUInt16BE(0)} reason=${JSON.stringify(f.payload.subarray(2).toString())}`
    : '';
  return `frame{op=${f.opcode} fin=${f.fin} rsv=${+f.rsv1}${+f.rsv2}${+f.rsv3} ` +
         `masked=${f.masked} len=${f.length}${extra}}`;
}

// ---------------------------------------------------------------------------------------------
// Raw sockets

const liveRaw = new Set();

export function destroyAllRaw() {
  for (const r of liveRaw) r.destroy();
}

// A TCP (or TLS) connection with an input buffer and awaitable reads. `ended` becomes true when
// the peer closed the connection (FIN, RST or any socket error); `endError` holds the error code
// if it was not a clean FIN. Input is kept as a list of chunks so that reading a large message
// costs O(size), not O(size^2).
export class RawSocket {
  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.length = 0;
    this.bytesReceived = 0;
    this.ended = false;
    this.endError = null;
    this.sawFin = false;
    this._wake = null;
    this._closed = new Promise((resolve) => {
      this._resolveClosed = resolve;
    });
    liveRaw.add(this);
    socket.on('data', (d) => {
      this.chunks.push(d);
      this.length += d.length;
      this.bytesReceived += d.length;
      this._notify();
    });
    socket.on('end', () => {
      this.sawFin = true;
      this.ended = true;
      this._notify();
    });
    socket.on('error', (err) => {
      this.endError ??= err.code ?? String(err);
      this.ended = true;
      this._notify();
    });
    socket.on('close', () => {
      this.ended = true;
      liveRaw.delete(this);
      this._notify();
      this._resolveClosed();
    });
  }

  // The buffered input as one Buffer (flattened in place).
  get buf() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  set buf(b) {
    this.chunks = b.length ? [b] : [];
    this.length = b.length;
  }

  // The first min(n, length) bytes, merging only the leading chunks needed.
  _peek(n) {
    if (this.chunks.length === 0) return Buffer.alloc(0);
    if (this.chunks[0].length < n && this.chunks.length > 1) {
      let k = 0;
      let got = 0;
      while (k < this.chunks.length && got < n) got += this.chunks[k++].length;
      this.chunks.splice(0, k, Buffer.concat(this.chunks.slice(0, k), got));
    }
    return this.chunks[0].subarray(0, n);
  }

  // Removes and returns the first n buffered bytes (n <= this.length).
  _take(n) {
    const all = this.buf;
    this.buf = all.subarray(n);
    return all.subarray(0, n);
  }

  static connect(port, { tls: useTls = false, ca, timeoutMs = DEFAULT_TIMEOUT_MS, alpn } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      let sock;
      const onError = (err) => reject(err);
      if (useTls) {
        sock = tls.connect({ host: HOST, port, ca, servername: 'localhost',
                             rejectUnauthorized: Boolean(ca), ALPNProtocols: alpn },
                           () => { sock.off('error', onError); resolve(new RawSocket(sock)); });
      } else {
        sock = net.connect({ host: HOST, port }, () => {
          sock.off('error', onError);
          resolve(new RawSocket(sock));
        });
      }
      sock.setNoDelay(true);
      sock.once('error', onError);
    }), timeoutMs, `connect to ${HOST}:${port}`);
  }

  _notify() {
    const w = this._wake;
    this._wake = null;
    if (w) w();
  }

  // Waits until pred() is true (checked after every input event), or the deadline.
  async _waitFor(pred, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`timed out after ${timeoutMs} ms: ${what}`);
      await withTimeout(new Promise((resolve) => {
        this._wake = resolve;
      }), left, what);
    }
  }

  write(data) {
    return new Promise((resolve, reject) => {
      this.socket.write(toBuffer(data), (err) => (err ? reject(err) : resolve()));
    });
  }

  // Exactly n bytes.
  async read(n, timeoutMs = DEFAULT_TIMEOUT_MS) {
    await this._waitFor(() => this.length >= n || this.ended, timeoutMs, `${n} bytes`);
    if (this.length < n) {
      throw new Error(`connection closed (${this.endError ?? 'FIN'}) after ${this.length} ` +
                      `of ${n} bytes`);
    }
    return this._take(n);
  }

  // Bytes up to and including the first occurrence of `marker`.
  async readUntil(marker, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const m = toBuffer(marker);
    await this._waitFor(() => this.buf.indexOf(m) >= 0 || this.ended, timeoutMs,
                        `${JSON.stringify(m.toString())}`);
    const i = this.buf.indexOf(m);
    if (i < 0) {
      throw new Error(`connection closed (${this.endError ?? 'FIN'}) before ` +
                      `${JSON.stringify(m.toString())}; got ${JSON.stringify(this.buf.toString())}`);
    }
    return this._take(i + m.length);
  }

  // One HTTP/1.x response: { status, reason, version, headers (lower-case names; repeated
  // headers joined with ", "), head, body }. The body is read by Content-Length, or to EOF.
  async readHttpResponse(timeoutMs = DEFAULT_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    const head = (await this.readUntil('\r\n\r\n', timeoutMs)).toString('latin1');
    const lines = head.slice(0, -4).split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    let body = Buffer.alloc(0);
    if (status !== 101 && status !== 204 && !(status >= 100 && status < 200)) {
      if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
        const parts = [];
        for (;;) {
          const left = () => Math.max(1, deadline - Date.now());
          const sizeLine = (await this.readUntil('\r\n', left())).toString('latin1');
          const size = parseInt(sizeLine, 16);
          if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
          if (size === 0) {
            await this.readUntil('\r\n', left());  // no trailers expected
            break;
          }
          parts.push(await this.read(size, left()));
          await this.read(2, left());
        }
        body = Buffer.concat(parts);
      } else if (headers['content-length'] !== undefined) {
        body = await this.read(Number(headers['content-length']), Math.max(1, deadline - Date.now()));
      } else {
        await this.waitEnd(Math.max(1, deadline - Date.now()));
        body = this.buf;
        this.buf = Buffer.alloc(0);
      }
    }
    return { version: m[1], status, reason: m[3], headers, head, body: body.toString('latin1') };
  }

  // Size of the frame at the head of the buffer, or 0 if its header is incomplete.
  _frameSize() {
    if (this.length < 2) return 0;
    const b = this._peek(14);
    let off = 2;
    let len = b[1] & 0x7f;
    if (len === 126) {
      if (b.length < 4) return 0;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return 0;
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    if (b[1] & 0x80) off += 4;
    return off + len;
  }

  // Next server frame.
  async readFrame(timeoutMs = DEFAULT_TIMEOUT_MS) {
    const complete = () => {
      const size = this._frameSize();
      return size > 0 && this.length >= size;
    };
    await this._waitFor(() => complete() || this.ended, timeoutMs, 'a WebSocket frame');
    if (!complete()) {
      throw new Error(`connection closed (${this.endError ?? 'FIN'}) with no complete frame ` +
                      `(${this.length} bytes buffered)`);
    }
    return parseFrame(this._take(this._frameSize()));
  }

  // Next data message, reassembled from fragments. Control frames in between are passed to
  // onControl (and rejected if there is none). Returns { opcode, payload, rsv1, frames }.
  async readMessage(timeoutMs = DEFAULT_TIMEOUT_MS, { onControl } = {}) {
    const deadline = Date.now() + timeoutMs;
    const parts = [];
    let first = null;
    let frames = 0;
    for (;;) {
      const f = await this.readFrame(Math.max(1, deadline - Date.now()));
      if (f.opcode >= 8) {
        if (!onControl) throw new Error(`expected a data frame, got ${describeFrame(f)}`);
        onControl(f);
        continue;
      }
      frames++;
      if (!first) {
        if (f.opcode === OP.CONT) throw new Error('server sent a continuation with no message');
        first = f;
      } else if (f.opcode !== OP.CONT) {
        throw new Error(`server interleaved a new message: ${describeFrame(f)}`);
      }
      parts.push(f.payload);
      if (f.fin) break;
    }
    return { opcode: first.opcode, rsv1: first.rsv1, payload: Buffer.concat(parts), frames };
  }

  // Resolves once the TCP connection is fully closed (FIN or reset).
  async waitEnd(timeoutMs = DEFAULT_TIMEOUT_MS) {
    await withTimeout(this._closed, timeoutMs, 'the server to close the TCP connection');
  }

  // The next frame must be a close frame with `code`; then the server must close TCP.
  // Returns { code, reason } of the close frame.
  async expectClose(code, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const f = await this.readFrame(timeoutMs);
    if (f.opcode !== OP.CLOSE) throw new Error(`expected close ${code}, got ${describeFrame(f)}`);
    if (f.payload.length < 2) throw new Error(`expected close ${code}, got ${describeFrame(f)}`);
    const got = f.payload.readUInt16BE(0);
    const reason = f.payload.subarray(2);
    if (got !== code) {
      throw new Error(`expected close code ${code}, got ${got} (reason ` +
                      `${JSON.stringify(reason.toString())})`);
    }
    await this.waitEnd(timeoutMs);
    return { code: got, reason };
  }

  // Everything until the server closes the connection.
  async readToEnd(timeoutMs = DEFAULT_TIMEOUT_MS) {
    await this.waitEnd(timeoutMs);
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  pause() {
    this.socket.pause();
  }

  resume() {
    this.socket.resume();
  }

  destroy() {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The opening handshake (RFC 6455 §4)

export function acceptKey(key) {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export function randomKey() {
  return randomBytes(16).toString('base64');
}

// An upgrade request. `headers` adds/overrides fields (value null removes one).
export function upgradeRequest({
  path: target = '/echo', method = 'GET', version = 'HTTP/1.1', key = randomKey(),
  extensions, protocols, headers = {},
} = {}) {
  const fields = {
    Host: `${HOST}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (extensions !== undefined) fields['Sec-WebSocket-Extensions'] = extensions;
  if (protocols !== undefined) fields['Sec-WebSocket-Protocol'] = protocols;
  Object.assign(fields, headers);
  let req = `${method} ${target} ${version}\r\n`;
  for (const [k, v] of Object.entries(fields)) if (v !== null) req += `${k}: ${v}\r\n`;
  return `${req}\r\n`;
}

// Sends the upgrade request and checks the 101 (status, Upgrade, Connection, Accept).
// `early` bytes are sent in the same write, right behind the request. Returns the response.
export async function upgrade(raw, opts = {}, early) {
  const key = opts.key ?? randomKey();
  const req = Buffer.from(upgradeRequest({ ...opts, key }), 'latin1');
  await raw.write(early ? Buffer.concat([req, toBuffer(early)]) : req);
  const res = await raw.readHttpResponse(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (res.status !== 101) {
    throw new Error(`upgrade refused: ${res.status} ${res.reason}\n${res.head}${res.body}`);
  }
  if ((res.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw new Error(`101 without "Upgrade: websocket":\n${res.head}`);
  }
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(res.headers.connection ?? '')) {
    throw new Error(`101 without "Connection: Upgrade":\n${res.head}`);
  }
  if (res.headers['sec-websocket-accept'] !== acceptKey(key)) {
    throw new Error(`bad Sec-WebSocket-Accept ${res.headers['sec-websocket-accept']} ` +
                    `(want ${acceptKey(key)})`);
  }
  return res;
}

// Connects and upgrades; returns the RawSocket (response in .upgradeResponse).
export async function connectWs(port, opts = {}) {
  const raw = await RawSocket.connect(port, opts);
  try {
    raw.upgradeResponse = await upgrade(raw, opts);
  } catch (err) {
    raw.destroy();
    throw err;
  }
  return raw;
}

// A plain HTTP request over a fresh raw connection; returns the parsed response.
export async function httpRequest(port, request, { tls: useTls = false, ca, timeoutMs } = {}) {
  const raw = await RawSocket.connect(port, { tls: useTls, ca });
  try {
    await raw.write(request);
    return await raw.readHttpResponse(timeoutMs);
  } finally {
    raw.destroy();
  }
}

// Round-trips one text message over a fresh raw connection to /echo and closes politely:
// proves the server still serves after a test abused it.
export async function assertEchoWorks(port, { tls: useTls = false, ca } = {}) {
  const raw = await connectWs(port, { tls: useTls, ca });
  try {
    const text = `still alive ${randomBytes(4).toString('hex')}`;
    await raw.write(buildFrame({ opcode: OP.TEXT, payload: text }));
    const m = await raw.readMessage();
    if (m.opcode !== OP.TEXT || m.payload.toString() !== text) {
      throw new Error(`echo check failed: opcode ${m.opcode} ${JSON.stringify(m.payload.toString())}`);
    }
    await raw.write(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    await raw.expectClose(1000);
  } finally {
    raw.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The npm `ws` client

// Opens a ws client; resolves once open. Unexpected-response / error reject.
export function openWs(url, options = {}, timeoutMs = DEFAULT_TIMEOUT_MS) {
  const ws = new WebSocket(url, options.protocols ?? [], options);
  // ws.extensions lists names only; keep the server's full answer for parameter checks.
  ws.once('upgrade', (res) => {
    ws.upgradeHeaders = res.headers;
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return withTimeout(opened, timeoutMs, `open ${url}`).catch((err) => {
    ws.terminate();
    throw err;
  });
}

// Buffers a ws client's messages so tests can await them one by one.
export function messageQueue(ws) {
  const items = [];
  let wake = null;
  let closed = null;
  ws.on('message', (data, isBinary) => {
    items.push({ data, isBinary });
    if (wake) wake();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    if (wake) wake();
  });
  const q = {
    items,
    get closed() {
      return closed;
    },
    async next(timeoutMs = DEFAULT_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      while (items.length === 0) {
        if (closed) throw new Error(`ws closed (${closed.code}) while waiting for a message`);
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError(`timed out after ${timeoutMs} ms: a ws message`);
        await withTimeout(new Promise((resolve) => {
          wake = resolve;
        }), left, 'a ws message');
      }
      return items.shift();
    },
  };
  return q;
}

// Resolves with { code, reason } when the ws client closes.
export function wsClosed(ws, timeoutMs = DEFAULT_TIMEOUT_MS) {
  if (ws.readyState === WebSocket.CLOSED) {
    return Promise.reject(new Error('ws already closed before waiting for close'));
  }
  return withTimeout(new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  }), timeoutMs, 'the ws client to close');
}

// ws.send as a promise.
export function wsSend(ws, data, options = {}) {
  return new Promise((resolve, reject) => {
    ws.send(data, options, (err) => (err ? reject(err) : resolve()));
  });
}
