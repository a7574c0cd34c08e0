// The harness shared by the ported official Engine.IO v4 and Socket.IO v5 suites
// (eio_suite.test.mjs, sio_suite.test.mjs): starts examples/conformance_server, and speaks
// Engine.IO by hand over fetch (long-polling) and the npm `ws` client (WebSocket) at the
// path the importing suite sets with useConformanceServer(). Every wait is bounded.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { HOST, WebSocket, startServer, stopServerCleanly, withTimeout } from './helpers.mjs';

let PATH = '/engine.io/';
// Which Engine.IO endpoint of the conformance server the importing suite talks to.
export function useEnginePath(path) {
  PATH = path;
}

export const CONFORMANCE_BIN = process.env.CONFORMANCE_BIN;
export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const T = 5000;  // bound of every single wait
// Extra slack on top of the suite's own timing waits (a loaded 2-core CI machine).
export const SLACK = 1000;
// Where two concurrent requests must arrive in order, the second waits this long (the suites
// use 5 ms or nothing): far below the first ping (300 ms), which would answer the pending poll.
export const ORDERING_DELAY = 50;

export let server;
export let URL;
export let WS_URL;
export const clients = new Set();

before(async () => {
  assert.ok(CONFORMANCE_BIN, 'CONFORMANCE_BIN must name examples/conformance_server');
  server = await startServer([], {
    bin: CONFORMANCE_BIN,
    argv: ['--host', HOST, '--port', '0', '--threads', '1'],
  });
  URL = `http://${HOST}:${server.port}`;
  WS_URL = `ws://${HOST}:${server.port}`;
});

after(async () => {
  for (const c of clients) c.ws.terminate();
  await stopServerCleanly(server);
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// HTTP

// One request to PATH?query; resolves with { status, body } once the whole body is in.
export async function request(query, { method = 'GET', body, signal } = {}) {
  const timeout = AbortSignal.timeout(T);
  const res = await fetch(`${URL}${PATH}?${query}`, {
    method,
    body,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return { status: res.status, body: await res.text() };
}

export const show = (r) => `HTTP ${r.status} ${JSON.stringify(r.body)}`;

export async function initLongPollingSession() {
  const r = await request('EIO=4&transport=polling');
  assert.equal(r.status, 200, `handshake: ${show(r)}`);
  assert.ok(r.body.startsWith('0'), `handshake: ${show(r)}`);
  return JSON.parse(r.body.substring(1)).sid;
}

export const poll = (sid, extra = '') => request(`EIO=4&transport=polling&sid=${sid}${extra}`);
export const push = (sid, body) => request(`EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body });

// ---------------------------------------------------------------------------------------------
// WebSocket: a `ws` client whose open/message/close events are buffered (like the suite's
// createWebSocket), so that a test can await them one by one. Text messages are strings,
// binary ones Buffers.

export class Client {
  constructor(query) {
    this.url = `${WS_URL}${PATH}?${query}`;
    this.ws = new WebSocket(this.url);
    this.messages = [];
    this.received = [];  // everything, for failure messages
    this.closed = null;
    this.error = null;
    this.isOpen = false;
    this._wake = null;
    clients.add(this);
    this.ws.on('open', () => {
      this.isOpen = true;
      this._notify();
    });
    this.ws.on('message', (data, isBinary) => {
      const m = isBinary ? Buffer.from(data) : data.toString('utf8');
      this.messages.push(m);
      this.received.push(m);
      this._notify();
    });
    this.ws.on('error', (err) => {
      this.error ??= err.message;
      this._notify();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      clients.delete(this);
      this._notify();
    });
  }

  _notify() {
    const w = this._wake;
    this._wake = null;
    if (w) w();
  }

  state() {
    const shown = this.received.map((m) =>
      (typeof m === 'string' ? m : `<binary ${m.toString('hex')}>`));
    return `${this.url}: received ${JSON.stringify(shown)}, ` +
           `closed ${JSON.stringify(this.closed)}, error ${JSON.stringify(this.error)}`;
  }

  async _until(pred, what, ms = T) {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out after ${ms} ms waiting for ${what}; ${this.state()}`);
      }
      await withTimeout(new Promise((resolve) => {
        this._wake = resolve;
      }), left, `${what}; ${this.state()}`).catch(() => {});
    }
  }

  async open(ms = T) {
    await this._until(() => this.isOpen || this.closed, 'open', ms);
    if (!this.isOpen) throw new Error(`closed before open; ${this.state()}`);
  }

  async message(ms = T) {
    await this._until(() => this.messages.length > 0 || this.closed, 'a message', ms);
    if (this.messages.length === 0) {
      throw new Error(`closed while waiting for a message; ${this.state()}`);
    }
    return this.messages.shift();
  }

  async close(ms = T) {
    await this._until(() => this.closed, 'the connection to close', ms);
    return this.closed;
  }

  send(data) {
    this.ws.send(data);
  }

  end() {
    this.ws.close();
  }
}

export const HANDSHAKE_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

export function checkHandshake(content, upgrades) {
  assert.equal(typeof content, 'string', `handshake must be text, got ${String(content)}`);
  assert.ok(content.startsWith('0'), `handshake ${JSON.stringify(content)}`);
  const value = JSON.parse(content.substring(1));
  assert.deepEqual(Object.keys(value).sort(), HANDSHAKE_KEYS, `handshake ${content}`);
  assert.equal(typeof value.sid, 'string');
  assert.deepEqual(value.upgrades, upgrades);
  assert.equal(value.pingInterval, PING_INTERVAL);
  assert.equal(value.pingTimeout, PING_TIMEOUT);
  assert.equal(value.maxPayload, 1000000);
}
