// The Node.js twin of examples/bench_server.cpp for `make bench`: `socket.io` 4.8 with its
// default options. Every client joins room "s" unless its handshake query has pub=1; "echo"
// is answered on the same socket, "pub" is emitted to room "s" as "m".
// usage: node sio_server.mjs [port] [recovery]   (port 0 or none = ephemeral; recovery 1 turns
// on connectionStateRecovery with its defaults); listens on 127.0.0.1 only and prints
// "listening on 127.0.0.1:PORT" once ready.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 0);
const recovery = process.argv[3] === '1';
const httpServer = createServer();
const io = new Server(httpServer, recovery ? { connectionStateRecovery: {} } : {});
io.on('connection', (socket) => {
  if (socket.handshake.query.pub !== '1') socket.join('s');
  socket.on('echo', (data) => socket.emit('echo', data));
  socket.on('pub', (data) => io.to('s').emit('m', data));
});
// Backlog as in ws_server.mjs: the handshake and idle scenarios open connections in bursts.
httpServer.listen(port, '127.0.0.1', 4096, () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
