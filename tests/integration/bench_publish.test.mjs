// `relay bench publish` end to end, as a smoke test (no timing is asserted): 10 Socket.IO
// subscribers join a room on `relay serve --rooms-namespace /live --api-key K` and on the Node
// peer (bench/node/publish_server.mjs), the HTTP publisher posts for 1 s, and every publish
// answered 200 reaches every subscriber: deliveries = published × 10, nothing lost, no error.
// Also: a wrong key is counted as HTTP errors, not as deliveries.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { HOST, RELAY_BIN, SOURCE_ROOT, startServer, stopServerCleanly, withTimeout } from
  './helpers.mjs';

const run = promisify(execFile);
const KEY = 'bench-smoke-key';
let relay;
let node;

before(async () => {
  relay = await startServer(['--rooms-namespace', '/live', '--api-key', KEY], { threads: 1 });
  node = spawn(process.execPath, [path.join(SOURCE_ROOT, 'bench/node/publish_server.mjs'), '0', KEY],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  node.port = await withTimeout(new Promise((resolve, reject) => {
    let out = '';
    node.stdout.setEncoding('utf8');
    node.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    node.once('exit', (code) => reject(new Error(`publish_server.mjs exited (${code})`)));
  }), 10_000, 'publish_server.mjs to listen');
});

after(async () => {
  await stopServerCleanly(relay);
  node.kill('SIGTERM');
});

async function bench(port, key = KEY) {
  const { stdout } = await run(RELAY_BIN, ['bench', 'publish', '--url', `ws://${HOST}:${port}/`,
    '--api-key', key, '--connections', '10', '--rate', '50', '--duration', '1', '--warmup', '0.2',
    '--drain', '1', '--json'], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

for (const target of ['relay', 'node']) {
  test(`every publish reaches every subscriber (${target})`, async () => {
    const r = await bench(target === 'relay' ? relay.port : node.port);
    assert.equal(r.scenario, 'publish');
    assert.equal(r.open, 10);
    assert.equal(r.errors.total, 0, JSON.stringify(r.errors));
    assert.ok(r.published > 0, `published ${r.published}`);
    assert.equal(r.expected_deliveries, r.published * 10);
    assert.equal(r.count, r.expected_deliveries);
    assert.equal(r.lost, 0);
    assert.equal(r.latency_us.count, r.count);
  });
}

test('a wrong API key: HTTP errors, no deliveries', async () => {
  const r = await bench(relay.port, 'wrong');
  assert.equal(r.published, 0);
  assert.equal(r.count, 0);
  assert.ok(r.errors.http > 0, JSON.stringify(r.errors));
});
