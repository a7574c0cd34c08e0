// The Node.js reference server for `make bench`: the `ws` package (v8) with its default
// options (permessage-deflate off, UTF-8 validation on), written the way a Node user would.
//   /echo  every message is sent back on the same connection, same opcode
//   /pub   every message is sent to every /sub connection, same opcode
//   /sub   receives what /pub publishes
// usage: node ws_server.mjs [port]   (0 or none = ephemeral); listens on 127.0.0.1 only and
// prints "listening on 127.0.0.1:PORT" once ready.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({ noServer: true });
const subscribers = new Set();

const routes = {
  '/echo': (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  },
  '/pub': (ws) => {
    ws.on('message', (data, isBinary) => {
      for (const sub of subscribers) sub.send(data, { binary: isBinary });
    });
  },
  '/sub': (ws) => {
    subscribers.add(ws);
    ws.on('close', () => subscribers.delete(ws));
  },
};

const server = createServer((req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain' });
  res.end('WebSocket only\n');
});

server.on('upgrade', (req, socket, head) => {
  const path = (req.url ?? '/').split('?')[0];
  const route = routes[path];
  if (!route) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {});  // a reset client must not crash the server
    route(ws);
  });
});

server.listen(port, '127.0.0.1', 4096, () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
