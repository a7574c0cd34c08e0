// The demo chat page that `relay serve` shows at "/", driven in two tabs of Debian's headless
// Chromium by playwright-core: a message typed in one appears in the other, the typing
// indicator shows, and rooms separate conversations. The page uses the official socket.io
// browser client vendored from npm, over polling then WebSocket; with JWT on, it logs in with a
// token from `relay token`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

import { RELAY_BIN, startServer, stopServerCleanly } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const T = 10_000;

let server;
let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/bootstrap installs chromium)`);
  server = await startServer([], { threads: 2 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No network beyond loopback here: keep Chromium from trying (playwright makes a fresh
    // profile per launch).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await stopServerCleanly(server);
});

async function enter(name) {
  const page = await browser.newPage();
  page.setDefaultTimeout(T);
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.fill('#name', name);
  await page.click('#login button');
  await page.waitForSelector('#chat:not([hidden])');
  await page.waitForSelector('#status[data-state="online"]');
  return page;
}

test('a message typed in one tab appears in the other, with who is typing', async () => {
  const alice = await enter('alice');
  const bob = await enter('bob');
  await alice.waitForSelector('#messages li.system:has-text("bob joined")');

  await bob.type('#text', 'hel');
  await alice.waitForSelector('#typing:has-text("bob is typing")');

  await bob.fill('#text', 'hello from bob');
  await bob.click('#send button');
  await alice.waitForSelector('#messages li.chat:has-text("bob: hello from bob")');
  await bob.waitForSelector('#messages li.chat:has-text("bob: hello from bob")');
  await alice.waitForFunction(() => document.querySelector('#typing').textContent === '');

  await alice.fill('#text', 'hi bob ✓');
  await alice.press('#text', 'Enter');
  await bob.waitForSelector('#messages li.chat:has-text("alice: hi bob ✓")');
  await alice.close();
  await bob.close();
});

test('rooms keep conversations apart', async () => {
  const carol = await enter('carol');
  const dave = await enter('dave');
  await carol.fill('#room', 'games');
  await carol.click('#room-form button');
  await carol.waitForSelector('#current-room:has-text("#games")');

  await dave.fill('#text', 'lobby only');
  await dave.click('#send button');
  await dave.waitForSelector('#messages li.chat:has-text("dave: lobby only")');

  await dave.fill('#room', 'games');
  await dave.click('#room-form button');
  await dave.waitForSelector('#current-room:has-text("#games")');
  await dave.fill('#text', 'now in games');
  await dave.click('#send button');
  await carol.waitForSelector('#messages li.chat:has-text("dave: now in games")');
  const carolSaw = await carol.$$eval('#messages li.chat', (lis) => lis.map((l) => l.textContent));
  assert.ok(!carolSaw.some((t) => t.includes('lobby only')), `carol saw ${carolSaw}`);
  await carol.close();
  await dave.close();
});

// Chromium polls with Accept-Encoding: gzip: a polling response of 1 KiB or more comes back
// gzip-compressed (as from Node's httpCompression) and the browser's client reads it intact.
test('long-polling in the browser: large responses arrive gzip-compressed and intact', async () => {
  const page = await browser.newPage();
  page.setDefaultTimeout(T);
  const encodings = [];
  page.on('response', (r) => {
    if (r.url().includes('transport=polling') && r.request().method() === 'GET') {
      encodings.push(r.headers()['content-encoding'] ?? 'identity');
    }
  });
  await page.goto(`http://127.0.0.1:${server.port}/`);
  const got = await page.evaluate(async (ms) => {
    const open = (name) => new Promise((resolve, reject) => {
      // eslint-disable-next-line no-undef
      const s = io({ transports: ['polling'], forceNew: true, auth: { name } });
      s.on('welcome', () => resolve(s));
      setTimeout(() => reject(new Error(`${name} not welcomed`)), ms);
    });
    const [a, b] = [await open('poll-a'), await open('poll-b')];
    const text = 'z'.repeat(1000);
    const heard = new Promise((resolve, reject) => {
      b.on('chat', (m) => { if (m.from === 'poll-a') resolve(m.text); });
      setTimeout(() => reject(new Error('no chat over polling')), ms);
    });
    a.emit('chat', text);
    const received = await heard;
    a.disconnect();
    b.disconnect();
    return received;
  }, T);
  assert.equal(got, 'z'.repeat(1000));
  assert.ok(encodings.includes('gzip'), `poll response encodings: ${encodings.join(', ')}`);
  await page.close();
});

// With JWT on, the page logs in with a token minted by `relay token` (the CLI, signed with the
// server's secret): the chat names the user from the token; a bad token is refused with its
// reason on the page.
test('logging in with a token from `relay token`', async () => {
  const secret = 'demo page secret';
  const guarded = await startServer(['--jwt-secret', secret], { threads: 2 });
  try {
    const minted = spawnSync(RELAY_BIN, ['token', '--user', 'erin', '--ttl', '10m'],
      { encoding: 'utf8', env: { ...process.env, RELAY_JWT_SECRET: secret } });
    assert.equal(minted.status, 0, minted.stderr);
    const page = await browser.newPage();
    page.setDefaultTimeout(T);
    await page.goto(`http://127.0.0.1:${guarded.port}/`);

    await page.fill('#token', 'not.a.token');
    await page.click('#login button');
    await page.waitForSelector('#refused:has-text("refused: malformed token")');

    await page.fill('#token', minted.stdout.trim());
    await page.click('#login button');
    await page.waitForSelector('#chat:not([hidden])');
    await page.fill('#text', 'signed in');
    await page.click('#send button');
    await page.waitForSelector('#messages li.chat:has-text("erin: signed in")');
    await page.close();
  } finally {
    await stopServerCleanly(guarded);
  }
});
