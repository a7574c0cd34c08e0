// The Node.js peer of `relay serve --rooms-namespace /live --api-key KEY` for the publish
// benchmark (`relay bench publish`, bench/run.sh server node-pub): socket.io 4.8 with its
// default options, and the same URLs and answers for what the benchmark uses:
//   - namespace /live: a socket emits `join` (room) and gets the ack {ok: true, room, offset};
//   - POST /api/publish with `Authorization: Bearer KEY` and {room, data}: the room gets the
//     event "message" {room, data, from: null, offset} with a per-room counter, and the
//     publisher {ok: true, rooms: [room]}; 401 without the key, 400 for a bad body.
// No history, presence or idempotency (Relay does keep the history, in memory): this is the
// least a Node backend would do for the same delivery.
// usage: node publish_server.mjs [port] [api-key]   (port 0 or none = ephemeral; key default
// KEY); listens on 127.0.0.1 only and prints "listening on 127.0.0.1:PORT" once ready.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 0);
const apiKey = process.argv[3] ?? process.env.RELAY_API_KEY ?? 'KEY';
const maxBody = 64 * 1024;
const offsets = new Map(); // room -> last offset

const httpServer = createServer((req, res) => {
  const answer = (status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  if (req.url !== '/api/publish') {
    // socket.io's own requests (/socket.io/) are handled by its listener, not here.
    if (!req.url.startsWith('/socket.io/')) answer(404, { error: 'not found', code: 'not_found' });
    return;
  }
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    answer(405, { error: 'method not allowed', code: 'method_not_allowed' });
    return;
  }
  if (req.headers.authorization !== `Bearer ${apiKey}`) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    answer(401, { error: 'unauthorized', code: 'unauthorized' });
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= maxBody) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > maxBody) return answer(413, { error: 'body too large', code: 'too_large' });
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, { error: 'bad json', code: 'bad_json' });
    }
    const room = body?.room;
    if (typeof room !== 'string' || room.length === 0 || room.length > 200)
      return answer(400, { error: 'bad room', code: 'bad_room' });
    const offset = (offsets.get(room) ?? 0) + 1;
    offsets.set(room, offset);
    live.to(room).emit('message', { room, data: body.data ?? null, from: null, offset });
    answer(200, { ok: true, rooms: [room] });
  });
});

const io = new Server(httpServer);
const live = io.of('/live');
live.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    if (typeof room !== 'string' || room.length === 0 || room.length > 200)
      return reply({ error: 'bad room' });
    socket.join(room);
    reply({ ok: true, room, offset: offsets.get(room) ?? 0 });
  });
});

// Backlog as in ws_server.mjs: the subscribers connect in bursts.
httpServer.listen(port, '127.0.0.1', 4096, () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
