// RFC 6455 / RFC 7692 / HTTP conformance of the real server over raw sockets, in the spirit of
// the Autobahn TestSuite: every bad input must get the EXACT close code (or HTTP status), then
// the TCP close; every good edge case must be echoed byte for byte. After each case a fresh,
// well-behaved client must still be served.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import zlib from 'node:zlib';

import {
  OP, RawSocket, assertEchoWorks, buildFrame, closePayload, connectWs, describeFrame,
  httpRequest, randomKey, startServer, stopServerCleanly, upgradeRequest,
} from './helpers.mjs';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// One direction of permessage-deflate with context takeover, as a client keeps it.
class DeflateContext {
  constructor() {
    this.deflater = zlib.createDeflateRaw({ windowBits: 15 });
    this.inflater = zlib.createInflateRaw({ windowBits: 15 });
  }

  static run(stream, input) {
    return new Promise((resolve, reject) => {
      const out = [];
      const onData = (d) => out.push(d);
      stream.on('data', onData);
      stream.once('error', reject);
      stream.write(input);
      stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        stream.off('data', onData);
        stream.off('error', reject);
        resolve(Buffer.concat(out));
      });
    });
  }

  // RFC 7692 §7.2.1: compress, sync-flush, drop the trailing 00 00 ff ff.
  async compress(data) {
    const z = await DeflateContext.run(this.deflater, Buffer.from(data));
    assert.deepEqual(z.subarray(-4), TAIL);
    return z.subarray(0, -4);
  }

  // RFC 7692 §7.2.2: append 00 00 ff ff, inflate.
  decompress(payload) {
    return DeflateContext.run(this.inflater, Buffer.concat([payload, TAIL]));
  }
}

// A one-shot compressed message (fresh context; valid inside a context-takeover stream too).
function deflateOnce(data) {
  const z = zlib.deflateRawSync(Buffer.from(data), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual(z.subarray(-4), TAIL);
  return z.subarray(0, -4);
}

// Upgrades, sends `frames` in one write (a server that fails on the first one may close before
// a second write, which would then fail here), and asserts the next frame is a close with
// `code` and that the server then closes TCP.
async function expectCloseAfter(port, frames, code, upgradeOpts = {}) {
  const raw = await connectWs(port, upgradeOpts);
  try {
    await raw.write(Buffer.concat(frames));
    await raw.expectClose(code);
  } finally {
    raw.destroy();
  }
}

// Upgrades, sends the frames, and returns the next data message (reassembled).
async function echoOf(raw, frames) {
  for (const f of frames) await raw.write(f);
  return raw.readMessage();
}

const frame = buildFrame;
const text = (payload, extra = {}) => frame({ opcode: OP.TEXT, payload, ...extra });

// ---------------------------------------------------------------------------------------------

describe('RFC 6455 framing (default limits)', () => {
  let server;
  let port;
  before(async () => {
    server = await startServer();
    port = server.port;
  });
  afterEach(() => assertEchoWorks(port));
  after(() => stopServerCleanly(server));

  describe('reserved bits', () => {
    it('RSV1 without permessage-deflate negotiated -> 1002', () =>
      expectCloseAfter(port, [text('Hello', { rsv1: true })], 1002));
    it('RSV2 -> 1002', () => expectCloseAfter(port, [text('Hello', { rsv2: true })], 1002));
    it('RSV3 -> 1002', () => expectCloseAfter(port, [text('Hello', { rsv3: true })], 1002));
    it('RSV1|RSV2|RSV3 on a ping -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, rsv1: true, rsv2: true, rsv3: true })], 1002));
    it('RSV2 after a valid message: echo first, then 1002', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(Buffer.concat([text('ok'), text('bad', { rsv2: true })]));
        const m = await raw.readMessage();
        assert.equal(m.payload.toString(), 'ok');
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });
  });

  describe('reserved opcodes', () => {
    for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      it(`opcode 0x${op.toString(16)} -> 1002`, () =>
        expectCloseAfter(port, [frame({ opcode: op, payload: 'x' })], 1002));
    }
    it('opcode 0xb with an empty payload after a valid message -> echo, then 1002', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(Buffer.concat([text('first'), frame({ opcode: 0xb })]));
        assert.equal((await raw.readMessage()).payload.toString(), 'first');
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });
  });

  describe('masking and control frames', () => {
    it('unmasked client frame -> 1002', () =>
      expectCloseAfter(port, [text('Hello', { mask: false })], 1002));
    it('unmasked empty ping -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, mask: false })], 1002));
    it('an all-zero mask key is still a masked frame: echoed', async () => {
      const raw = await connectWs(port);
      try {
        const m = await echoOf(raw, [text('zero mask', { maskKey: [0, 0, 0, 0] })]);
        assert.equal(m.payload.toString(), 'zero mask');
      } finally {
        raw.destroy();
      }
    });
    it('ping with 126 bytes -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, payload: Buffer.alloc(126, 0x2a) })], 1002));
    it('pong with 126 bytes -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PONG, payload: Buffer.alloc(126, 0x2a) })], 1002));
    it('close with 126 bytes -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CLOSE,
                                      payload: closePayload(1000, 'a'.repeat(124)) })], 1002));
    it('ping with 125 bytes in the 126 form (non-minimal, control) -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, payload: Buffer.alloc(125), lengthForm: 16 })],
                       1002));
    it('fragmented ping (fin=0) -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, payload: 'ab', fin: false }),
                              frame({ opcode: OP.CONT, payload: 'cd', fin: true })], 1002));
    it('fragmented ping fails fast, without the continuation', () =>
      expectCloseAfter(port, [frame({ opcode: OP.PING, payload: 'ab', fin: false })], 1002));
  });

  describe('ping / pong', () => {
    it('ping with payload -> pong with identical payload', async () => {
      const raw = await connectWs(port);
      try {
        const payload = Buffer.from('ping payload \x00\xff binary', 'latin1');
        await raw.write(frame({ opcode: OP.PING, payload }));
        const f = await raw.readFrame();
        assert.equal(f.opcode, OP.PONG, describeFrame(f));
        assert.ok(f.fin);
        assert.equal(f.masked, false, 'server frames must not be masked');
        assert.deepEqual(f.payload, payload);
      } finally {
        raw.destroy();
      }
    });
    it('ping with 125 bytes -> pong with the same 125 bytes', async () => {
      const raw = await connectWs(port);
      try {
        const payload = randomBytes(125);
        await raw.write(frame({ opcode: OP.PING, payload }));
        const f = await raw.readFrame();
        assert.equal(f.opcode, OP.PONG, describeFrame(f));
        assert.deepEqual(f.payload, payload);
      } finally {
        raw.destroy();
      }
    });
    it('empty ping -> empty pong', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(frame({ opcode: OP.PING }));
        const f = await raw.readFrame();
        assert.equal(f.opcode, OP.PONG);
        assert.equal(f.length, 0);
      } finally {
        raw.destroy();
      }
    });
    it('10 pings in one write -> 10 pongs in order', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(Buffer.concat(Array.from({ length: 10 },
                                                 (_, i) => frame({ opcode: OP.PING, payload: `p${i}` }))));
        for (let i = 0; i < 10; i++) {
          const f = await raw.readFrame();
          assert.equal(f.opcode, OP.PONG);
          assert.equal(f.payload.toString(), `p${i}`);
        }
      } finally {
        raw.destroy();
      }
    });
    it('unsolicited pong is ignored (nothing sent back), then echo works', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(frame({ opcode: OP.PONG, payload: 'unsolicited' }));
        const m = await echoOf(raw, [text('after pong')]);
        assert.equal(m.payload.toString(), 'after pong');  // readMessage rejects stray control
      } finally {
        raw.destroy();
      }
    });
    it('ping between fragments -> pong first, then the whole message', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(text('Hello, ', { fin: false }));
        await raw.write(frame({ opcode: OP.PING, payload: 'mid' }));
        const pong = await raw.readFrame();
        assert.equal(pong.opcode, OP.PONG, describeFrame(pong));
        assert.equal(pong.payload.toString(), 'mid');
        await raw.write(frame({ opcode: OP.CONT, payload: 'world', fin: false }));
        await raw.write(frame({ opcode: OP.PONG, payload: 'x' }));
        await raw.write(frame({ opcode: OP.CONT, payload: '!', fin: true }));
        const m = await raw.readMessage();
        assert.equal(m.opcode, OP.TEXT);
        assert.equal(m.payload.toString(), 'Hello, world!');
      } finally {
        raw.destroy();
      }
    });
  });

  describe('fragmentation', () => {
    it('continuation without a message in progress -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CONT, payload: 'orphan' })], 1002));
    it('final continuation without a message in progress -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CONT, payload: 'orphan', fin: true })], 1002));
    it('continuation after a complete message -> echo, then 1002', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(text('done'));
        assert.equal((await raw.readMessage()).payload.toString(), 'done');
        await raw.write(frame({ opcode: OP.CONT, payload: 'late' }));
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });
    it('new text frame during a fragmented message -> 1002', () =>
      expectCloseAfter(port, [text('frag1', { fin: false }), text('new message')], 1002));
    it('new binary frame during a fragmented text message -> 1002', () =>
      expectCloseAfter(port, [text('frag1', { fin: false }),
                              frame({ opcode: OP.BINARY, payload: 'b', fin: false })], 1002));
    it('many fragments (including empty ones) reassemble exactly', async () => {
      const raw = await connectWs(port);
      try {
        const parts = ['', 'a', '', 'bc', 'd'.repeat(200), '', 'e'.repeat(70000), ''];
        const frames = parts.map((p, i) => frame({
          opcode: i === 0 ? OP.BINARY : OP.CONT, payload: p, fin: i === parts.length - 1,
        }));
        const m = await echoOf(raw, [Buffer.concat(frames)]);
        assert.equal(m.opcode, OP.BINARY);
        assert.equal(m.payload.toString(), parts.join(''));
      } finally {
        raw.destroy();
      }
    });
    it('a frame sent one byte per write is parsed', async () => {
      const raw = await connectWs(port);
      try {
        const bytes = Buffer.concat([text('byte by byte', { fin: false }),
                                     frame({ opcode: OP.CONT, payload: '!', fin: true })]);
        for (const b of bytes) await raw.write(Buffer.from([b]));
        assert.equal((await raw.readMessage()).payload.toString(), 'byte by byte!');
      } finally {
        raw.destroy();
      }
    });
    it('100 messages in one write -> 100 echoes in order', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => text(`m${i}`))));
        for (let i = 0; i < 100; i++) assert.equal((await raw.readMessage()).payload.toString(), `m${i}`);
      } finally {
        raw.destroy();
      }
    });
    it('frames right behind the upgrade request (same write) are processed', async () => {
      const raw = await RawSocket.connect(port);
      try {
        const key = randomKey();
        await raw.write(Buffer.concat([Buffer.from(upgradeRequest({ key }), 'latin1'),
                                       text('early 1'), text('early 2')]));
        const res = await raw.readHttpResponse();
        assert.equal(res.status, 101);
        assert.equal((await raw.readMessage()).payload.toString(), 'early 1');
        assert.equal((await raw.readMessage()).payload.toString(), 'early 2');
      } finally {
        raw.destroy();
      }
    });
  });

  describe('length encodings', () => {
    it('5 bytes in the 16-bit form (non-minimal) -> 1002', () =>
      expectCloseAfter(port, [text('Hello', { lengthForm: 16 })], 1002));
    it('125 bytes in the 16-bit form (non-minimal) -> 1002', () =>
      expectCloseAfter(port, [text('a'.repeat(125), { lengthForm: 16 })], 1002));
    it('200 bytes in the 64-bit form (non-minimal) -> 1002', () =>
      expectCloseAfter(port, [text('a'.repeat(200), { lengthForm: 64 })], 1002));
    it('65535 bytes in the 64-bit form (non-minimal) -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.BINARY, payload: Buffer.alloc(65535),
                                      lengthForm: 64 })], 1002));
    it('non-minimal length fails fast from the header alone', () =>
      expectCloseAfter(port, [text('', { lengthForm: 16, declaredLength: 5 })], 1002));
    it('64-bit length with the most significant bit set -> 1002', () =>
      expectCloseAfter(port, [text('Hello', { lengthForm: 64, declaredLength: (1n << 63n) + 5n })],
                       1002));
    it('minimal 126 / 65535 / 65536 lengths are echoed', async () => {
      const raw = await connectWs(port);
      try {
        for (const n of [126, 65535, 65536]) {
          const payload = randomBytes(n);
          const m = await echoOf(raw, [frame({ opcode: OP.BINARY, payload })]);
          assert.deepEqual(m.payload, payload, `${n} bytes`);
        }
      } finally {
        raw.destroy();
      }
    });
  });

  describe('UTF-8 (RFC 3629) in text messages', () => {
    const invalid = {
      'lone 0xff': [0xff],
      'lone continuation byte': [0x41, 0x80],
      'overlong NUL (c0 80)': [0xc0, 0x80],
      'overlong 3-byte (e0 80 af)': [0xe0, 0x80, 0xaf],
      'UTF-16 surrogate (ed a0 80)': [0xed, 0xa0, 0x80],
      'above U+10FFFF (f4 90 80 80)': [0xf4, 0x90, 0x80, 0x80],
      'f5 lead byte': [0xf5, 0x80, 0x80, 0x80],
      'truncated sequence at message end (e2 82)': [0x61, 0xe2, 0x82],
    };
    for (const [name, bytes] of Object.entries(invalid)) {
      it(`single frame, ${name} -> 1007`, () =>
        expectCloseAfter(port, [text(Buffer.from(bytes))], 1007));
    }
    it('invalid bytes in the second fragment -> 1007', () =>
      expectCloseAfter(port, [text('κόσμε', { fin: false }),
                              frame({ opcode: OP.CONT, payload: Buffer.from([0xed, 0xa0, 0x80]) })],
                       1007));
    it('sequence cut off by the final (empty) fragment -> 1007', () =>
      expectCloseAfter(port, [text(Buffer.from([0x61, 0xe2, 0x82]), { fin: false }),
                              frame({ opcode: OP.CONT, payload: '' })], 1007));
    it('fails fast: invalid first fragment (fin=0) -> 1007 with nothing more sent', () =>
      expectCloseAfter(port, [text(Buffer.from([0x48, 0x69, 0xff]), { fin: false })], 1007));
    it('fails fast: invalid byte in a partially received frame -> 1007', () => {
      const f = text(Buffer.concat([Buffer.from([0x48, 0xc0, 0x80]), Buffer.alloc(97, 0x61)]));
      return expectCloseAfter(port, [f.subarray(0, 2 + 4 + 3)], 1007);  // header + mask + 3 bytes
    });
    it('valid edge code points are echoed byte for byte', async () => {
      const raw = await connectWs(port);
      try {
        const bytes = Buffer.from([
          0x00, 0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80,
          0xef, 0xbf, 0xbe, 0xef, 0xbf, 0xbf, 0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf,
        ]);
        const m = await echoOf(raw, [text(bytes)]);
        assert.equal(m.opcode, OP.TEXT);
        assert.deepEqual(m.payload, bytes);
      } finally {
        raw.destroy();
      }
    });
    it('valid UTF-8 split inside a code point, at every position, is echoed', async () => {
      const raw = await connectWs(port);
      try {
        const bytes = Buffer.from('κόσμε-€-🎉');
        for (let cut = 1; cut < bytes.length; cut++) {
          const m = await echoOf(raw, [text(bytes.subarray(0, cut), { fin: false }),
                                       frame({ opcode: OP.CONT, payload: bytes.subarray(cut) })]);
          assert.equal(m.opcode, OP.TEXT);
          assert.deepEqual(m.payload, bytes, `cut at ${cut}`);
        }
        // One byte per fragment.
        const frames = [...bytes].map((b, i) => frame({
          opcode: i ? OP.CONT : OP.TEXT, payload: Buffer.from([b]), fin: i === bytes.length - 1,
        }));
        assert.deepEqual((await echoOf(raw, [Buffer.concat(frames)])).payload, bytes);
      } finally {
        raw.destroy();
      }
    });
    it('binary messages are not UTF-8 checked', async () => {
      const raw = await connectWs(port);
      try {
        const bytes = Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80]);
        const m = await echoOf(raw, [frame({ opcode: OP.BINARY, payload: bytes })]);
        assert.equal(m.opcode, OP.BINARY);
        assert.deepEqual(m.payload, bytes);
      } finally {
        raw.destroy();
      }
    });
  });

  describe('close frames', () => {
    it('close with a 1-byte payload -> 1002', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) })], 1002));

    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      it(`close code ${code} -> 1002`, () =>
        expectCloseAfter(port, [frame({ opcode: OP.CLOSE, payload: closePayload(code) })], 1002));
    }

    for (const code of [1000, 1001, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999]) {
      it(`close code ${code} -> echoed ${code}`, () =>
        expectCloseAfter(port, [frame({ opcode: OP.CLOSE, payload: closePayload(code, 'bye') })],
                         code));
    }

    it('empty close -> empty close back, then TCP close', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(frame({ opcode: OP.CLOSE }));
        const f = await raw.readFrame();
        assert.equal(f.opcode, OP.CLOSE, describeFrame(f));
        assert.equal(f.length, 0, 'the server must not invent a status code (1005 is not sent)');
        await raw.waitEnd();
      } finally {
        raw.destroy();
      }
    });

    it('close reason of 123 valid UTF-8 bytes -> echoed code', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CLOSE,
                                      payload: closePayload(1000, 'é'.repeat(61) + 'a') })], 1000));

    it('close reason with invalid UTF-8 -> 1007', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CLOSE,
                                      payload: closePayload(1000, Buffer.from([0x61, 0xff])) })],
                       1007));

    it('close reason with a surrogate -> 1007', () =>
      expectCloseAfter(port, [frame({ opcode: OP.CLOSE,
                                      payload: closePayload(1000, Buffer.from([0xed, 0xa0, 0x80])) })],
                       1007));

    it('close in the middle of a fragmented message -> echoed 1000', () =>
      expectCloseAfter(port, [text('partial', { fin: false }),
                              frame({ opcode: OP.CLOSE, payload: closePayload(1000) })], 1000));

    it('data after the close frame is ignored', async () => {
      const raw = await connectWs(port);
      try {
        await raw.write(Buffer.concat([
          frame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
          text('after close'), frame({ opcode: OP.PING, payload: 'after close' }),
        ]));
        await raw.expectClose(1000);
        assert.equal(raw.length, 0, `bytes after the close frame: ${raw.buf.toString('latin1')}`);
      } finally {
        raw.destroy();
      }
    });
  });

  describe('permessage-deflate negotiated by hand (RFC 7692)', () => {
    const deflate = { extensions: 'permessage-deflate' };

    async function deflateWs() {
      const raw = await connectWs(port, deflate);
      assert.match(raw.upgradeResponse.headers['sec-websocket-extensions'] ?? '',
                   /^permessage-deflate\b/);
      return raw;
    }

    it('declines an offer with an unknown parameter (no extension header, RSV1 -> 1002)', async () => {
      const raw = await connectWs(port, { extensions: 'permessage-deflate; foo=1' });
      try {
        assert.equal(raw.upgradeResponse.headers['sec-websocket-extensions'], undefined);
        await raw.write(frame({ opcode: OP.TEXT, payload: deflateOnce('x'), rsv1: true }));
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });

    it('inflates compressed text and echoes it compressed (context takeover both ways)', async () => {
      const raw = await deflateWs();
      try {
        const ctx = new DeflateContext();
        for (const msg of ['Hello, compressed world', 'Hello, compressed world',
                           'x'.repeat(100000), 'κόσμε'.repeat(1000)]) {
          await raw.write(frame({ opcode: OP.TEXT, payload: await ctx.compress(msg), rsv1: true }));
          const f = await raw.readFrame();
          assert.equal(f.opcode, OP.TEXT, describeFrame(f));
          assert.equal(f.rsv1, true, 'echo of a compressed message is not compressed');
          assert.equal(f.fin, true);
          assert.equal((await ctx.decompress(f.payload)).toString(), msg);
        }
      } finally {
        raw.destroy();
      }
    });

    it('inflates a compressed message split over fragments (RSV1 on the first only)', async () => {
      const raw = await deflateWs();
      try {
        const ctx = new DeflateContext();
        const z = deflateOnce('fragmented and compressed '.repeat(100));
        const a = z.subarray(0, 5);
        const b = z.subarray(5);
        await raw.write(Buffer.concat([
          frame({ opcode: OP.BINARY, payload: a, rsv1: true, fin: false }),
          frame({ opcode: OP.CONT, payload: b, fin: true }),
        ]));
        const f = await raw.readFrame();
        assert.equal(f.opcode, OP.BINARY);
        assert.equal(f.rsv1, true);
        assert.equal((await ctx.decompress(f.payload)).toString(),
                     'fragmented and compressed '.repeat(100));
      } finally {
        raw.destroy();
      }
    });

    it('uncompressed messages on a deflate connection are echoed uncompressed', async () => {
      const raw = await deflateWs();
      try {
        await raw.write(text('plain'));
        const f = await raw.readFrame();
        assert.equal(f.rsv1, false);
        assert.equal(f.payload.toString(), 'plain');
      } finally {
        raw.destroy();
      }
    });

    it('RSV1 on a continuation frame -> 1002', async () => {
      const raw = await deflateWs();
      try {
        const z = deflateOnce('abcdef');
        await raw.write(Buffer.concat([
          frame({ opcode: OP.TEXT, payload: z.subarray(0, 2), rsv1: true, fin: false }),
          frame({ opcode: OP.CONT, payload: z.subarray(2), rsv1: true, fin: true }),
        ]));
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });

    it('RSV1 on a control frame -> 1002', async () => {
      const raw = await deflateWs();
      try {
        await raw.write(frame({ opcode: OP.PING, payload: 'p', rsv1: true }));
        await raw.expectClose(1002);
      } finally {
        raw.destroy();
      }
    });

    it('compressed text that inflates to invalid UTF-8 -> 1007', async () => {
      const raw = await deflateWs();
      try {
        await raw.write(frame({ opcode: OP.TEXT, payload: deflateOnce(Buffer.from([0x61, 0xff])),
                                rsv1: true }));
        await raw.expectClose(1007);
      } finally {
        raw.destroy();
      }
    });

    it('corrupt deflate data -> 1007 (invalid payload, as websocket.cpp documents)', async () => {
      const raw = await deflateWs();
      try {
        // BFINAL=1, BTYPE=11: a reserved block type.
        await raw.write(frame({ opcode: OP.BINARY, payload: Buffer.from([0xff, 0xff, 0xff]),
                                rsv1: true }));
        await raw.expectClose(1007);
      } finally {
        raw.destroy();
      }
    });

    it('compression bomb past 16 MiB after inflation -> 1009', { timeout: 30_000 }, async () => {
      const raw = await deflateWs();
      try {
        const z = deflateOnce(Buffer.alloc(16 * 1024 * 1024 + 1));
        assert.ok(z.length < 64 * 1024, `bomb is ${z.length} bytes`);
        await raw.write(frame({ opcode: OP.BINARY, payload: z, rsv1: true }));
        await raw.expectClose(1009, 10_000);
      } finally {
        raw.destroy();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('--max-message-size 1024', () => {
  let server;
  let port;
  before(async () => {
    server = await startServer(['--max-message-size', '1024']);
    port = server.port;
  });
  afterEach(() => assertEchoWorks(port));
  after(() => stopServerCleanly(server));

  it('a 1024-byte message is echoed', async () => {
    const raw = await connectWs(port);
    try {
      const payload = randomBytes(1024);
      assert.deepEqual((await echoOf(raw, [frame({ opcode: OP.BINARY, payload })])).payload, payload);
    } finally {
      raw.destroy();
    }
  });
  it('a 1025-byte single frame -> 1009', () =>
    expectCloseAfter(port, [frame({ opcode: OP.BINARY, payload: Buffer.alloc(1025) })], 1009));
  it('fails fast: a header announcing 2000 bytes -> 1009 before any payload', () =>
    expectCloseAfter(port, [frame({ opcode: OP.BINARY, declaredLength: 2000 })], 1009));
  it('fragments adding up to 1025 -> 1009', () =>
    expectCloseAfter(port, [frame({ opcode: OP.TEXT, payload: 'a'.repeat(600), fin: false }),
                            frame({ opcode: OP.CONT, payload: 'a'.repeat(425), fin: true })], 1009));
  it('fragments adding up to exactly 1024 are echoed', async () => {
    const raw = await connectWs(port);
    try {
      const m = await echoOf(raw, [frame({ opcode: OP.TEXT, payload: 'a'.repeat(600), fin: false }),
                                   frame({ opcode: OP.CONT, payload: '', fin: false }),
                                   frame({ opcode: OP.CONT, payload: 'b'.repeat(424), fin: true })]);
      assert.equal(m.payload.toString(), 'a'.repeat(600) + 'b'.repeat(424));
    } finally {
      raw.destroy();
    }
  });
  it('fails fast: cumulative size exceeded by a continuation header alone -> 1009', () =>
    expectCloseAfter(port, [frame({ opcode: OP.TEXT, payload: 'a'.repeat(600), fin: false }),
                            frame({ opcode: OP.CONT, declaredLength: 500 })], 1009));
  it('a 64-bit length with the MSB set is a protocol error (1002), not 1009', () =>
    expectCloseAfter(port, [text('x', { lengthForm: 64, declaredLength: (1n << 63n) + 1n })], 1002));
  it('control frames do not count towards the message size', async () => {
    const raw = await connectWs(port);
    try {
      await raw.write(Buffer.concat([
        frame({ opcode: OP.TEXT, payload: 'a'.repeat(1000), fin: false }),
        frame({ opcode: OP.PING, payload: 'p'.repeat(125) }),
        frame({ opcode: OP.CONT, payload: 'a'.repeat(24), fin: true }),
      ]));
      const pong = await raw.readFrame();
      assert.equal(pong.opcode, OP.PONG, describeFrame(pong));
      assert.equal((await raw.readMessage()).payload.length, 1024);
    } finally {
      raw.destroy();
    }
  });

  describe('after inflation', () => {
    const deflate = { extensions: 'permessage-deflate' };
    it('compressed message inflating to exactly 1024 bytes is echoed', async () => {
      const raw = await connectWs(port, deflate);
      try {
        const ctx = new DeflateContext();
        await raw.write(frame({ opcode: OP.TEXT, payload: deflateOnce('z'.repeat(1024)), rsv1: true }));
        const f = await raw.readFrame();
        assert.equal(f.rsv1, true);
        assert.equal((await ctx.decompress(f.payload)).toString(), 'z'.repeat(1024));
      } finally {
        raw.destroy();
      }
    });
    it('compressed message inflating to 1025 bytes -> 1009', () =>
      expectCloseAfter(port, [frame({ opcode: OP.TEXT, payload: deflateOnce('z'.repeat(1025)),
                                      rsv1: true })], 1009, deflate));
    it('compression bomb (1 MiB of zeros in ~1 KiB) -> 1009', async () => {
      const z = deflateOnce(Buffer.alloc(1024 * 1024));
      assert.ok(z.length < 2048, `bomb is ${z.length} bytes`);
      await expectCloseAfter(port, [frame({ opcode: OP.BINARY, payload: z, rsv1: true })], 1009,
                             deflate);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('HTTP (--max-header-size 1024 --max-body-size 1024 --request-timeout 500)', () => {
  let server;
  let port;
  before(async () => {
    server = await startServer(['--max-header-size', '1024', '--max-body-size', '1024',
                                '--request-timeout', '500', '--keep-alive-timeout', '1000']);
    port = server.port;
  });
  afterEach(() => assertEchoWorks(port));
  after(() => stopServerCleanly(server));

  const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

  // A request head of exactly `size` bytes (request line through the blank line).
  function headOfSize(size) {
    const start = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ';
    const end = '\r\n\r\n';
    return start + 'p'.repeat(size - start.length - end.length) + end;
  }

  describe('routes', () => {
    it('GET /healthz -> 200 "ok\\n"', async () => {
      const r = await httpRequest(port, get('/healthz'));
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ok\n');
      assert.equal(r.headers['content-length'], '3');
    });
    it('GET / -> 200, the demo page', async () => {
      const r = await httpRequest(port, get('/'));
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.match(r.body, /<script src="\/socket\.io\.min\.js"><\/script>/);
    });
    it('GET /socket.io.min.js -> the vendored official client', async () => {
      const r = await httpRequest(port, get('/socket.io.min.js'));
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^text\/javascript/);
      assert.match(r.body, /Socket\.IO v4\.8/);
    });
    it('HEAD /chat.js -> the GET headers with its Content-Length, no body', async () => {
      const head = await new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/chat.js', method: 'HEAD' },
          (res) => {
            let bytes = 0;
            res.on('data', (d) => { bytes += d.length; });
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes }));
          });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('HEAD timed out')));
        req.end();
      });
      const full = await httpRequest(port, get('/chat.js'));
      assert.equal(head.status, 200);
      assert.equal(head.bytes, 0);
      assert.match(head.headers['content-type'], /^text\/javascript/);
      assert.equal(full.status, 200);
      assert.equal(head.headers['content-length'], full.headers['content-length']);
    });
    it('unknown path -> 404', async () => {
      assert.equal((await httpRequest(port, get('/no/such/path'))).status, 404);
    });
    it('WebSocket upgrade to an unknown path -> 404', async () => {
      assert.equal((await httpRequest(port, upgradeRequest({ path: '/nope' }))).status, 404);
    });
  });

  describe('upgrade validation', () => {
    for (const path of ['/echo', '/pub', '/sub']) {
      it(`GET ${path} without upgrade -> 426 with Sec-WebSocket-Version: 13`, async () => {
        const r = await httpRequest(port, get(path));
        assert.equal(r.status, 426);
        assert.equal(r.headers['sec-websocket-version'], '13');
      });
    }
    it('missing Sec-WebSocket-Key -> 400', async () => {
      const r = await httpRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Key': null } }));
      assert.equal(r.status, 400);
    });
    for (const [name, key] of [['not base64', '!!!!!!!!!!!!!!!!!!!!!!=='],
                               ['15 bytes', Buffer.alloc(15, 1).toString('base64')],
                               ['17 bytes', Buffer.alloc(17, 1).toString('base64')],
                               ['empty', '']]) {
      it(`Sec-WebSocket-Key ${name} -> 400`, async () => {
        const r = await httpRequest(port, upgradeRequest({ key }));
        assert.equal(r.status, 400);
      });
    }
    it('Connection without the Upgrade token -> 400', async () => {
      const r = await httpRequest(port, upgradeRequest({ headers: { Connection: 'keep-alive' } }));
      assert.equal(r.status, 400);
    });
    it('Sec-WebSocket-Version: 8 -> 426 with Sec-WebSocket-Version: 13', async () => {
      const r = await httpRequest(port, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '8' } }));
      assert.equal(r.status, 426);
      assert.equal(r.headers['sec-websocket-version'], '13');
    });
    it('POST upgrade -> 405 with Allow: GET (RFC 9110 §15.5.6)', async () => {
      const r = await httpRequest(port, upgradeRequest({ method: 'POST',
                                                         headers: { 'Content-Length': '0' } }));
      assert.equal(r.status, 405);
      assert.match(r.headers.allow ?? '', /\bGET\b/, 'a 405 must carry Allow');
    });
    it('case-insensitive tokens and a token list in Connection are accepted', async () => {
      const raw = await connectWs(port, { headers: { Upgrade: 'WebSocket',
                                                     Connection: 'keep-alive, UPGRADE' } });
      raw.destroy();
    });
  });

  describe('limits', () => {
    it('a 1024-byte request head is served', async () => {
      const h = headOfSize(1024);
      assert.equal(h.length, 1024);
      assert.equal((await httpRequest(port, h)).status, 200);
    });
    it('a 1025-byte request head -> 431', async () => {
      assert.equal((await httpRequest(port, headOfSize(1025))).status, 431);
    });
    it('a header far past the limit -> 431 before the head ends', async () => {
      const r = await httpRequest(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${
        'b'.repeat(4000)}`);
      assert.equal(r.status, 431);
    });
    it('a 1024-byte body is accepted', async () => {
      const r = await httpRequest(port, get('/healthz', 'Content-Length: 1024\r\n') + 'b'.repeat(1024));
      assert.equal(r.status, 200);
    });
    it('Content-Length 1025 -> 413', async () => {
      const r = await httpRequest(port, get('/healthz', 'Content-Length: 1025\r\n') + 'b'.repeat(1025));
      assert.equal(r.status, 413);
    });
    it('Content-Length of 10 MB -> 413 from the head alone', async () => {
      const r = await httpRequest(port, get('/healthz', 'Content-Length: 10000000\r\n'));
      assert.equal(r.status, 413);
    });
    it('chunked body over the limit -> 413', async () => {
      const chunk = `${(800).toString(16)}\r\n${'c'.repeat(800)}\r\n`;
      const r = await httpRequest(port, get('/healthz', 'Transfer-Encoding: chunked\r\n') +
                                        chunk + chunk + '0\r\n\r\n');
      assert.equal(r.status, 413);
    });
  });

  describe('timeouts', () => {
    it('slowloris: a head trickling in -> 408 at the deadline, then close', async () => {
      const raw = await RawSocket.connect(port);
      const head = get('/healthz', 'X-Slow: 1\r\n');
      let i = 0;
      const t0 = Date.now();
      const trickle = setInterval(() => {
        if (i < head.length - 4 && !raw.ended) raw.socket.write(head[i++]);
      }, 50);
      try {
        const r = await raw.readHttpResponse(3000);
        const elapsed = Date.now() - t0;
        assert.equal(r.status, 408);
        assert.ok(elapsed >= 400 && elapsed < 2000, `408 after ${elapsed} ms (timeout 500)`);
        await raw.waitEnd(2000);
      } finally {
        clearInterval(trickle);
        raw.destroy();
      }
    });
    it('a connection that sends nothing -> 408, then close', async () => {
      const raw = await RawSocket.connect(port);
      const t0 = Date.now();
      try {
        const r = await raw.readHttpResponse(3000);
        assert.equal(r.status, 408);
        assert.ok(Date.now() - t0 >= 400, 'too early');
        await raw.waitEnd(2000);
      } finally {
        raw.destroy();
      }
    });
    it('an idle keep-alive connection is closed after --keep-alive-timeout without a 408', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write(get('/healthz'));
        assert.equal((await raw.readHttpResponse()).status, 200);
        const t0 = Date.now();
        await raw.waitEnd(4000);
        assert.ok(Date.now() - t0 >= 800, `closed after ${Date.now() - t0} ms (timeout 1000)`);
        assert.equal(raw.length, 0, `unexpected bytes: ${raw.buf.toString('latin1')}`);
      } finally {
        raw.destroy();
      }
    });
    it('an open WebSocket is not subject to the HTTP request timeout', async () => {
      const raw = await connectWs(port);
      try {
        // Past the 500 ms request timeout and the 1000 ms keep-alive timeout.
        const pings = [];
        for (let k = 0; k < 3; k++) {
          await new Promise((resolve) => setTimeout(resolve, 500));  // the idle time under test
          await raw.write(frame({ opcode: OP.PING, payload: `k${k}` }));
          pings.push(await raw.readFrame());
        }
        assert.deepEqual(pings.map((f) => [f.opcode, f.payload.toString()]),
                         [[OP.PONG, 'k0'], [OP.PONG, 'k1'], [OP.PONG, 'k2']]);
      } finally {
        raw.destroy();
      }
    });
  });

  describe('connection handling', () => {
    it('pipelined GET /healthz x3 in one write -> three 200s in order', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write(get('/healthz') + get('/healthz') + get('/healthz'));
        for (let k = 0; k < 3; k++) {
          const r = await raw.readHttpResponse();
          assert.equal(r.status, 200, `response ${k}`);
          assert.equal(r.body, 'ok\n');
        }
      } finally {
        raw.destroy();
      }
    });
    it('pipelined /healthz, /missing, / -> 200, 404, 200 in order', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write(get('/healthz') + get('/missing') + get('/'));
        const rs = [await raw.readHttpResponse(), await raw.readHttpResponse(),
                    await raw.readHttpResponse()];
        assert.deepEqual(rs.map((r) => r.status), [200, 404, 200]);
        assert.equal(rs[0].body, 'ok\n');
        assert.notEqual(rs[2].body, 'ok\n');
      } finally {
        raw.destroy();
      }
    });
    it('pipelined request behind a 413 is not answered (connection closes)', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write(get('/healthz', 'Content-Length: 5000\r\n') + get('/healthz'));
        const r = await raw.readHttpResponse();
        assert.equal(r.status, 413);
        await raw.waitEnd();
        assert.equal(raw.length, 0, `more after the 413: ${raw.buf.toString('latin1')}`);
      } finally {
        raw.destroy();
      }
    });
    it('keep-alive: sequential requests on one connection', async () => {
      const raw = await RawSocket.connect(port);
      try {
        for (let k = 0; k < 3; k++) {
          await raw.write(get('/healthz'));
          assert.equal((await raw.readHttpResponse()).status, 200);
        }
        assert.equal(raw.ended, false);
      } finally {
        raw.destroy();
      }
    });
    it('HTTP/1.0 request -> response, then the server closes', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write('GET /healthz HTTP/1.0\r\n\r\n');
        const r = await raw.readHttpResponse();
        assert.equal(r.status, 200);
        assert.equal(r.body, 'ok\n');
        await raw.waitEnd(2000);
      } finally {
        raw.destroy();
      }
    });
    it('Connection: close -> response with Connection: close, then close', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write(get('/healthz', 'Connection: close\r\n'));
        const r = await raw.readHttpResponse();
        assert.equal(r.status, 200);
        assert.match(r.headers.connection ?? '', /close/i);
        await raw.waitEnd(2000);
      } finally {
        raw.destroy();
      }
    });
    it('malformed request line -> 400, then close', async () => {
      const raw = await RawSocket.connect(port);
      try {
        await raw.write('GARBAGE\r\n\r\n');
        assert.equal((await raw.readHttpResponse()).status, 400);
        await raw.waitEnd(2000);
      } finally {
        raw.destroy();
      }
    });
  });
});
