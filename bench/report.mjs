// Turns the per-scenario JSON that bench/run.sh collected into build/bench/results.md and
// results.json, and prints the markdown. usage: node report.mjs OUT_DIR [--seconds S ...]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const out = process.argv[2];
const opts = {};
for (let i = 3; i + 1 < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const WS_SERVERS = [
  ['relay', 'relay'],
  ['node', 'node ws'],
  ['raw', 'raw tcp'],
];
// Socket.IO over Engine.IO v4 (WebSocket transport): examples/bench_server vs bench/node/sio_server.mjs.
const SIO_SERVERS = [
  ['relay-sio', 'relay socket.io'],
  ['node-sio', 'node socket.io'],
];
// HTTP publish -> Socket.IO subscribers: relay serve (rooms namespace + API) vs bench/node/publish_server.mjs.
const PUB_SERVERS = [
  ['relay-pub', 'relay'],
  ['node-pub', 'node socket.io'],
];
const SERVERS = [...WS_SERVERS, ...SIO_SERVERS, ...PUB_SERVERS];
const ECHO = [
  ['echo-100c-32b-p1', '100 conns × 32 B, 1 in flight'],
  ['echo-100c-1024b-p1', '100 conns × 1 KiB, 1 in flight'],
  ['echo-1000c-32b-p1', '1000 conns × 32 B, 1 in flight'],
  ['echo-1000c-1024b-p1', '1000 conns × 1 KiB, 1 in flight'],
  ['echo-100c-32b-p16', '100 conns × 32 B, 16 in flight'],
  ['echo-100c-1024b-p16', '100 conns × 1 KiB, 16 in flight'],
];
const BROADCAST = [
  ['broadcast-1000s-20b-p16', '1000 subscribers × 20 B, 16 in flight'],
  ['broadcast-1000s-1024b-p16', '1000 subscribers × 1 KiB, 16 in flight'],
];
const SIO_ECHO = [
  ['echo-100c-32b-p1', '100 conns × 32 B, 1 in flight'],
  ['echo-1000c-32b-p1', '1000 conns × 32 B, 1 in flight'],
  ['echo-100c-32b-p16', '100 conns × 32 B, 16 in flight'],
];
const SIO_BROADCAST = [['broadcast-1000s-20b-p16', '1000 subscribers × 20 B, 16 in flight']];
const SIO_HANDSHAKE = ['handshake-c64', 'handshakes, 64 concurrent'];
// Relay/Node targets for the Socket.IO workloads (minimum ratio), and the idle memory budget.
const SIO_TARGETS = {
  'echo-100c-32b-p1': 4,
  'echo-1000c-32b-p1': 4,
  'echo-100c-32b-p16': 30,
  'broadcast-1000s-20b-p16': 15,
  'handshake-c64': 5,
};
const SIO_IDLE_TARGET_KIB = 1;
const SATURATED_CPU = 95;  // load generator CPU % above which a figure is only a lower bound

// results[server][scenario] = the load generator's JSON (or {failed: true})
const results = {};
const runs = path.join(out, 'runs');
for (const [server] of SERVERS) {
  const dir = path.join(runs, server);
  if (!existsSync(dir)) continue;
  results[server] = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    try {
      results[server][f.slice(0, -5)] = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    } catch {
      results[server][f.slice(0, -5)] = { failed: true };
    }
  }
}
for (const s of Object.keys(results)) if (!Object.keys(results[s]).length) delete results[s];
const present = WS_SERVERS.filter(([s]) => results[s]);
const presentSio = SIO_SERVERS.filter(([s]) => results[s]);
const presentPub = PUB_SERVERS.filter(([s]) => results[s]);

const notes = [];
const noteFor = (server, key, r) => {
  const marks = [];
  if (r.errors?.total > 0) {
    const e = r.errors;
    notes.push(`${server} ${key}: ${e.total} errors (connect ${e.connect}, handshake ${e.handshake}, ` +
      `protocol ${e.protocol}, closed ${e.closed}, timeouts ${e.timeouts}` +
      (e.http || e.unanswered ? `, http ${e.http ?? 0}, unanswered ${e.unanswered ?? 0}` : '') + ')' +
      (e.closed ? ` — closes: ${e.closed_by_frame ?? 0} by close frame (last code ` +
        `${e.last_close_code ?? '?'}), ${e.closed_by_eof ?? 0} by FIN, ${e.closed_by_reset ?? 0} by reset` +
        (e.closed_by_disconnect ? `, ${e.closed_by_disconnect} by Socket.IO/Engine.IO disconnect` : '') : ''));
    marks.push('†');
  }
  if (r.client_cpu_percent >= SATURATED_CPU) {
    notes.push(`${server} ${key}: load generator at ${r.client_cpu_percent.toFixed(0)} % CPU — ` +
      'the figure is a lower bound for the server');
    marks.push('‡');
  }
  return marks.join('');
};

const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const us = (n) => (n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const get = (server, key) => results[server]?.[key];
const ok = (r) => r && !r.failed;
const rateCell = (server, key) => {
  const r = get(server, key);
  if (!r) return '–';
  if (r.failed) return 'failed';
  return fmt(r.rate) + noteFor(server, key, r);
};
const latCell = (server, key) => {
  const r = get(server, key);
  if (!ok(r)) return '–';
  return `${us(r.latency_us.p50)} / ${us(r.latency_us.p99)}`;
};
const ratio = (a, b, key) => {
  const ra = get(a, key), rb = get(b, key);
  if (!ok(ra) || !ok(rb) || !rb.rate) return '–';
  return `${(ra.rate / rb.rate).toFixed(2)}×`;
};
const row = (cells) => `| ${cells.join(' | ')} |`;
const header = (cells) => [row(cells), row(cells.map(() => '---'))];

const idle = (s) => get(s, 'idle');
const perConn = (s) => {
  const r = idle(s);
  if (!ok(r)) return null;
  return ((r.rss_after_kib - r.rss_before_kib) / r.connections);
};
const perConnCell = (s) => {
  const v = perConn(s);
  if (v === null) return idle(s)?.failed ? 'failed' : '–';
  const r = idle(s);
  const mark = r.bench?.failed > 0 || r.bench?.open < r.connections ? '†' : '';
  if (mark) notes.push(`${s} idle: ${r.opened}`);
  if (r.bench?.errors?.total > 0) noteFor(s, 'idle', r.bench);
  return v.toFixed(2) + mark;
};
const rssCell = (s) => {
  const r = idle(s);
  return ok(r) ? `${(r.rss_before_kib / 1024).toFixed(1)} → ${(r.rss_after_kib / 1024).toFixed(1)}` : '–';
};

const lines = [];
const cpuModel = (() => {
  try {
    const m = execFileSync('lscpu', { encoding: 'utf8' }).match(/^Model name:\s*(.+)$/m);
    return m ? m[1].trim() : os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
})();
const machine = {
  cpu: cpuModel,
  cores: os.cpus().length,
  kernel: os.release(),
  node: process.version,
  date: new Date().toISOString(),
};
const config = {
  seconds: Number(opts.seconds ?? 5),
  warmup: Number(opts.warmup ?? 1),
  quick: opts.quick === '1',
  server_cpu: opts['server-cpu'] ?? '0',
  client_cpu: opts['client-cpu'] ?? '1',
  cpu_busy_percent_at_start: Number(opts.busy ?? 0),
};

lines.push('# Relay benchmark results', '');
lines.push(`${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}; ` +
  `${machine.date}.`);
lines.push(`Server pinned to core ${config.server_cpu}, load generator (\`relay bench\`, 1 thread) ` +
  `to core ${config.client_cpu}; one server at a time; ${config.seconds} s measured after ` +
  `${config.warmup} s warmup per scenario${config.quick ? ' (QUICK smoke run: not for publication)' : ''}.`, '');
if (config.cpu_busy_percent_at_start > 10) {
  lines.push(`**Warning: the CPUs were ${config.cpu_busy_percent_at_start} % busy just before the run: ` +
    'other work shared the cores, so these figures are noise, not measurements.**', '');
}

// Messages per CPU-second of the server: what the server costs per message whether or not the
// generator limited the rate (the CPU share covers set-up and warm-up too, so it is approximate).
const perCpu = (r) => (ok(r) && r.server_cpu_percent > 0 ? r.rate / (r.server_cpu_percent / 100) : null);
const cpuCell = (server, key) => {
  const r = get(server, key);
  const v = perCpu(r);
  return v === null ? '–' : `${fmt(v)} (${r.server_cpu_percent.toFixed(0)} %)`;
};
const cpuRatio = (a, b, key) => {
  const va = perCpu(get(a, key)), vb = perCpu(get(b, key));
  return va && vb ? `${(va / vb).toFixed(2)}×` : '–';
};

const echoServers = present.map(([s, l]) => [s, l]);
if (echoServers.length) {
  lines.push('## Echo throughput (messages/s, higher is better)', '');
  {
    const cols = ['scenario', ...echoServers.map(([, l]) => l)];
    if (results.relay && results.node) cols.push('relay/node');
    if (results.relay && results.raw) cols.push('relay/raw tcp');
    lines.push(...header(cols));
    for (const [key, label] of ECHO) {
      const cells = [label, ...echoServers.map(([s]) => rateCell(s, key))];
      if (results.relay && results.node) cells.push(ratio('relay', 'node', key));
      if (results.relay && results.raw) cells.push(ratio('relay', 'raw', key));
      lines.push(row(cells));
    }
    lines.push('');
  }

  if (results.relay && (results.node || results.raw)) {
    lines.push('## Server efficiency (messages per second of server CPU; server CPU share in brackets)', '');
    const cols = ['scenario', ...echoServers.map(([, l]) => l)];
    if (results.node) cols.push('relay/node');
    if (results.raw) cols.push('relay/raw tcp');
    lines.push(...header(cols));
    for (const [key, label] of [...ECHO, ...BROADCAST, ['handshake-c64', 'handshakes, 64 concurrent']]) {
      const cells = [label, ...echoServers.map(([s]) => cpuCell(s, key))];
      if (results.node) cells.push(cpuRatio('relay', 'node', key));
      if (results.raw) cells.push(cpuRatio('relay', 'raw', key));
      lines.push(row(cells));
    }
    lines.push('');
  }

  lines.push('## Echo latency (µs, p50 / p99)', '');
  lines.push(...header(['scenario', ...echoServers.map(([, l]) => l)]));
  for (const [key, label] of ECHO) lines.push(row([label, ...echoServers.map(([s]) => latCell(s, key))]));
  lines.push('');
}

const wsServers = present.filter(([s]) => s !== 'raw');
if (wsServers.length) {
  const both = results.relay && results.node;
  lines.push('## Broadcast (deliveries/s, higher is better)', '');
  const cols = ['scenario', ...wsServers.map(([, l]) => l)];
  if (both) cols.push('relay/node');
  cols.push(...wsServers.map(([, l]) => `${l} p50 / p99 µs`));
  lines.push(...header(cols));
  for (const [key, label] of BROADCAST) {
    const cells = [label, ...wsServers.map(([s]) => rateCell(s, key))];
    if (both) cells.push(ratio('relay', 'node', key));
    cells.push(...wsServers.map(([s]) => latCell(s, key)));
    lines.push(row(cells));
  }
  lines.push('');

  lines.push('## Handshakes (connect + upgrade + close, 64 concurrent)', '');
  const hcols = ['', ...wsServers.map(([, l]) => l)];
  if (both) hcols.push('relay/node');
  lines.push(...header(hcols));
  const hs = ['handshakes/s', ...wsServers.map(([s]) => rateCell(s, 'handshake-c64'))];
  if (both) hs.push(ratio('relay', 'node', 'handshake-c64'));
  lines.push(row(hs));
  const hl = ['latency p50 / p99 µs', ...wsServers.map(([s]) => latCell(s, 'handshake-c64'))];
  if (both) hl.push('');
  lines.push(row(hl), '');

  const n = wsServers.map(([s]) => idle(s)).find(ok)?.connections ?? '?';
  const w = wsServers.map(([s]) => idle(s)).find(ok)?.warmup_connections ?? 0;
  const warm = w ? ` after a warm-up of ${Number(w).toLocaleString('en-US')} opened and closed` : '';
  lines.push(`## Memory: server RSS per idle WebSocket (${Number(n).toLocaleString('en-US')} connections${warm}, lower is better)`, '');
  const mcols = ['', ...wsServers.map(([, l]) => l)];
  if (both) mcols.push('relay/node');
  lines.push(...header(mcols));
  const pc = ['KiB per connection', ...wsServers.map(([s]) => perConnCell(s))];
  if (both) pc.push(perConn('relay') !== null && perConn('node') ? `${(perConn('relay') / perConn('node')).toFixed(2)}×` : '–');
  lines.push(row(pc));
  const rss = ['RSS before → after (MiB)', ...wsServers.map(([s]) => rssCell(s))];
  if (both) rss.push('');
  lines.push(row(rss), '');
}

// --- Socket.IO --------------------------------------------------------------------------------
const ratioValue = (a, b, key) => {
  const ra = get(a, key), rb = get(b, key);
  return ok(ra) && ok(rb) && rb.rate ? ra.rate / rb.rate : null;
};
const cpuRatioValue = (a, b, key) => {
  const va = perCpu(get(a, key)), vb = perCpu(get(b, key));
  return va && vb ? va / vb : null;
};
// "≥ 4× ✓": the target, and whether the ratio beside it meets it.
const targetCell = (key, value) => {
  const t = SIO_TARGETS[key];
  if (t === undefined) return '';
  if (value === null) return `≥ ${t}×`;
  return `≥ ${t}× ${value >= t ? '✓' : '✗'}`;
};
const times = (v) => (v === null ? '–' : `${v.toFixed(2)}×`);
if (presentSio.length) {
  const both = results['relay-sio'] && results['node-sio'];
  const cols = (first) => {
    const c = [first, ...presentSio.map(([, l]) => l)];
    if (both) c.push('relay/node', 'target');
    return c;
  };
  const withRatio = (cells, key, value) => {
    if (both) cells.push(times(value), targetCell(key, value));
    return cells;
  };
  lines.push('## Socket.IO', '');
  lines.push('Relay\'s Socket.IO server (`examples/bench_server`, 1 thread) against Node\'s `socket.io` 4.8 ' +
    '(`bench/node/sio_server.mjs`, default options), the same app on both: every client joins room "s" ' +
    'unless its handshake query has `pub=1`; `echo` is answered with `socket.emit("echo", data)`, `pub` does ' +
    '`io.to("s").emit("m", data)`. The generator connects with `transports: ["websocket"]` semantics ' +
    '(`GET /socket.io/?EIO=4&transport=websocket`, then Engine.IO OPEN, CONNECT `40`, its answer) and sends ' +
    '`42["echo",<data>]` / `42["pub",<data>]`; the size is that of the string argument.', '');

  lines.push('### Socket.IO echo throughput (messages/s, higher is better)', '');
  lines.push(...header(cols('scenario')));
  for (const [key, label] of SIO_ECHO) {
    lines.push(row(withRatio([label, ...presentSio.map(([s]) => rateCell(s, key))], key,
      ratioValue('relay-sio', 'node-sio', key))));
  }
  lines.push('');

  lines.push('### Socket.IO server efficiency (per second of server CPU; server CPU share in brackets)', '');
  lines.push(...header(cols('scenario')));
  for (const [key, label] of [...SIO_ECHO, ...SIO_BROADCAST, SIO_HANDSHAKE]) {
    lines.push(row(withRatio([label, ...presentSio.map(([s]) => cpuCell(s, key))], key,
      cpuRatioValue('relay-sio', 'node-sio', key))));
  }
  lines.push('');

  lines.push('### Socket.IO echo latency (µs, p50 / p99)', '');
  lines.push(...header(['scenario', ...presentSio.map(([, l]) => l)]));
  for (const [key, label] of SIO_ECHO) lines.push(row([label, ...presentSio.map(([s]) => latCell(s, key))]));
  lines.push('');

  lines.push('### Socket.IO broadcast (deliveries/s, higher is better)', '');
  {
    const c = cols('scenario');
    c.push(...presentSio.map(([, l]) => `${l} p50 / p99 µs`));
    lines.push(...header(c));
    for (const [key, label] of SIO_BROADCAST) {
      const cells = withRatio([label, ...presentSio.map(([s]) => rateCell(s, key))], key,
        ratioValue('relay-sio', 'node-sio', key));
      cells.push(...presentSio.map(([s]) => latCell(s, key)));
      lines.push(row(cells));
    }
  }
  lines.push('');

  const [hkey] = SIO_HANDSHAKE;
  lines.push('### Socket.IO handshakes (connect + upgrade + Engine.IO OPEN + CONNECT answered + close, 64 concurrent)', '');
  lines.push(...header(cols('')));
  lines.push(row(withRatio(['handshakes/s', ...presentSio.map(([s]) => rateCell(s, hkey))], hkey,
    ratioValue('relay-sio', 'node-sio', hkey))));
  const hl = ['latency p50 / p99 µs', ...presentSio.map(([s]) => latCell(s, hkey))];
  if (both) hl.push('', '');
  lines.push(row(hl), '');

  const sn = presentSio.map(([s]) => idle(s)).find(ok);
  const warm = sn?.warmup_connections ?
    ` after a warm-up of ${Number(sn.warmup_connections).toLocaleString('en-US')} opened and closed` : '';
  lines.push(`### Socket.IO memory: server RSS per idle connection (${Number(sn?.connections ?? 0).toLocaleString('en-US')} ` +
    `connections${warm}, lower is better)`, '');
  const mcols = ['', ...presentSio.map(([, l]) => l)];
  if (both) mcols.push('relay/node');
  mcols.push('target (relay)');
  lines.push(...header(mcols));
  const pc = ['KiB per connection', ...presentSio.map(([s]) => perConnCell(s))];
  if (both) pc.push(perConn('relay-sio') !== null && perConn('node-sio') ? `${(perConn('relay-sio') / perConn('node-sio')).toFixed(2)}×` : '–');
  const rk = perConn('relay-sio');
  pc.push(`≤ ${SIO_IDLE_TARGET_KIB} KiB${rk === null ? '' : rk <= SIO_IDLE_TARGET_KIB ? ' ✓' : ' ✗'}`);
  lines.push(row(pc));
  const rss = ['RSS before → after (MiB)', ...presentSio.map(([s]) => rssCell(s))];
  if (both) rss.push('');
  rss.push('');
  lines.push(row(rss), '');
}

if (presentPub.length) {
  const both = results['relay-pub'] && results['node-pub'];
  lines.push('## HTTP publish to Socket.IO subscribers', '');
  lines.push('`relay serve --rooms-namespace /live --api-key KEY --threads 1` against `bench/node/publish_server.mjs` ' +
    '(socket.io 4.8, default options): S subscribers on `/live` join room `bench` (ack awaited), then ' +
    '`POST /api/publish` {room, data} at a steady rate; latency = delivery of the `message` event − send of the ' +
    'request. Lower is better; ratios are node/relay (how many times lower relay is).', '');
  const keys = [...new Set(presentPub.flatMap(([s]) => Object.keys(results[s]).filter((k) => /^publish-\d+s-/.test(k))))]
    .sort((a, b) => parseInt(a.slice(8), 10) - parseInt(b.slice(8), 10));
  const c = ['subscribers × rate', ...presentPub.map(([, l]) => `${l} p50 / p99 µs`)];
  if (both) c.push('p50 node/relay', 'p99 node/relay');
  c.push(...presentPub.map(([, l]) => `${l} published/s, lost`));
  lines.push(...header(c));
  for (const key of keys) {
    const [, subs, rate] = key.match(/^publish-(\d+)s-(\d+)r$/) ?? [];
    const cells = [`${Number(subs).toLocaleString('en-US')} × ${rate}/s`,
      ...presentPub.map(([s]) => { const r = get(s, key); return ok(r) ? latCell(s, key) + noteFor(s, key, r) : r ? 'failed' : '–'; })];
    if (both) {
      const a = get('relay-pub', key), b = get('node-pub', key);
      const q = (p) => (ok(a) && ok(b) && a.latency_us[p] > 0 ? `${(b.latency_us[p] / a.latency_us[p]).toFixed(1)}×` : '–');
      cells.push(q('p50'), q('p99'));
    }
    cells.push(...presentPub.map(([s]) => { const r = get(s, key); return ok(r) ? `${fmt(r.published_per_sec)}, ${r.lost}` : '–'; }));
    lines.push(row(cells));
  }
  lines.push('');
  const search = (s) => get(s, 'pub-search');
  const sn = presentPub.map(([s]) => search(s)).find(ok);
  if (sn) {
    lines.push(`### Highest publish rate with p99 < ${sn.p99_bound_ms} ms (${Number(sn.subscribers).toLocaleString('en-US')} subscribers, ` +
      'nothing lost, no error, rate held)', '');
    const mc = ['', ...presentPub.map(([, l]) => l)];
    if (both) mc.push('relay/node');
    lines.push(...header(mc));
    const cell = (s) => { const r = search(s); return ok(r) ? `${fmt(r.max_rate)}/s${r.complete ? '' : ' (search cut short)'}` : '–'; };
    const m = ['publishes/s', ...presentPub.map(([s]) => cell(s))];
    if (both) {
      const a = search('relay-pub'), b = search('node-pub');
      m.push(ok(a) && ok(b) && b.max_rate > 0 ? `${(a.max_rate / b.max_rate).toFixed(1)}×` : '–');
    }
    lines.push(row(m));
    const f = ['first failing rate', ...presentPub.map(([s]) => { const r = search(s); return ok(r) && r.first_failing_rate ? `${fmt(r.first_failing_rate)}/s` : '–'; })];
    if (both) f.push('');
    lines.push(row(f), '');
    for (const [s, l] of presentPub) {
      const r = search(s);
      if (!ok(r)) continue;
      lines.push(`${l} steps: ` + r.steps.map((st) => `${st.rate}/s ${st.pass ? 'pass' : 'fail'} (p99 ${st.p99_us === '-' ? '–' : us(Number(st.p99_us))} µs` +
        `${st.lost !== '0' && st.lost !== '-' ? `, lost ${st.lost}` : ''}${st.published_per_sec !== '-' && Number(st.published_per_sec) < 0.95 * st.rate ? `, published ${fmt(Number(st.published_per_sec))}/s` : ''})`).join('; ') + '.', '');
    }
  }
}

if (notes.length) {
  lines.push('## Notes', '');
  lines.push('† errors during the run; ‡ the load generator was saturated.', '');
  for (const n of notes) lines.push(`- ${n}`);
  lines.push('');
}

const markdown = lines.join('\n');
writeFileSync(path.join(out, 'results.md'), markdown);
writeFileSync(path.join(out, 'results.json'), JSON.stringify({ machine, config, results }, null, 2) + '\n');
process.stdout.write(markdown);
process.stdout.write(`\n(written to ${path.join(out, 'results.md')} and results.json)\n`);
