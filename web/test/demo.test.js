// End-to-end test of `make demo`: the demo process (cmd/demo, fakewa inside),
// the demo page and the simulated phone page in one browser. The phone page
// scans the QR the demo page shows; the two exchange a message both ways
// (the page's shows a delivered tick); the phone's image shows as a picture
// and its group in the groups panel, where the page writes to it;
// a second session links with a pairing code typed into the phone; the
// downloaded backup restores the first session in a fresh browser profile;
// the phone logs a device out and the page shows a fresh QR again.
// Screenshots land in web/test-results/ (a gitignored artifact).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');
const resultsDir = join(webDir, 'test-results');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const tmp = mkdtempSync(join(tmpdir(), 'wasmeow-demo-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Builds a Go command once into the temp dir. */
function buildGo(pkg, name) {
  const bin = join(tmp, name);
  if (!existsSync(bin)) execFileSync('go', ['build', '-o', bin, pkg], { cwd: repoDir, stdio: 'inherit' });
  return bin;
}

/** Starts a process and resolves once its stdout matches every pattern. */
function startProcess(bin, args, patterns) {
  const proc = spawn(bin, args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolveMatch, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} did not start:\n${out}${err}`)), 30_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const found = patterns.map((p) => p.exec(out));
      if (found.every(Boolean)) {
        clearTimeout(timer);
        resolveMatch(found.map((m) => m[1]));
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${bin} exited with ${code}:\n${out}${err}`)); });
  });
  const stop = () => new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.on('exit', r);
    proc.kill('SIGTERM');
  });
  return { ready, stop, logs: () => out + err };
}

async function openPages(baseURL) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1400, height: 940 }, acceptDownloads: true });
  const errors = [];
  const open = async (path) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.error(`[${path} console]`, m.text()); });
    await page.goto(baseURL + path);
    return page;
  };
  return { browser, context, open, errors };
}

const timelineHas = (page, event) => page.waitForSelector(`#timeline li[data-event="${event}"]`, { timeout: 30_000 });

test('make demo: pair through the simulated phone, chat both ways, back up and restore, link by code, phone-side logout', async (t) => {
  mkdirSync(resultsDir, { recursive: true });
  const demo = startProcess(buildGo('./cmd/demo', 'demo'), ['-addr', '127.0.0.1:0', '-quiet'], [/demo page:\s+(http:\/\/\S+\/)\s/]);
  const cleanup = [demo.stop];
  t.after(async () => { for (const f of cleanup.reverse()) await f(); });
  const [baseURL] = await demo.ready;
  const { browser, open, errors } = await openPages(baseURL);
  cleanup.push(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1400, height: 940 } }); // another profile

  const page = await open('');
  const phone = await open('phone');
  const shots = { demo: page, 'demo-phone': phone }; // pictures taken on failure
  try {
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    await phone.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });

    // QR pairing: the demo page draws the QR; the phone page sees it and scans.
    await page.click('#connect');
    const qrImg = await page.waitForSelector('#qr-image', { timeout: 30_000 });
    assert.match(await qrImg.getAttribute('src'), /^data:image\/gif;base64,/);
    await phone.waitForSelector('#seen-qr img', { timeout: 10_000 });
    await page.screenshot({ path: join(resultsDir, 'demo-qr.png') });
    await phone.waitForSelector('#scan:not([disabled])', { timeout: 10_000 });
    await phone.click('#scan');
    await phone.waitForFunction(() => /^linked /.test(document.getElementById('scan-status').textContent), null, { timeout: 30_000 });
    await page.waitForSelector('body[data-status="ready"]', { timeout: 30_000 });
    await timelineHas(page, 'authenticated');
    const me = await page.textContent('#me');
    assert.match(me, /15550100001/, 'the linked device belongs to the demo account');
    await phone.waitForSelector('#devices li button', { timeout: 10_000 });

    // Browser -> peer.
    await page.fill('#send-text', 'Hello from the browser');
    await page.click('#send');
    await page.waitForSelector('#msgs .bubble.out >> text=Hello from the browser');
    await phone.waitForSelector('#msgs .bubble:not(.out) >> text=Hello from the browser', { timeout: 30_000 });
    // The phone's delivery receipt turns the page's tick into two.
    const ticked = await page.waitForSelector('#msgs .bubble.out[data-status="delivered"]:has-text("Hello from the browser")', { timeout: 30_000 });
    assert.equal((await ticked.$eval('.ticks', (n) => n.textContent)).trim(), '✓✓');

    // Peer -> browser.
    await phone.fill('#send-text', 'Hi from Alice, through fakewa');
    await phone.click('#send');
    await page.waitForSelector('#msgs .bubble:not(.out) >> text=Hi from Alice, through fakewa', { timeout: 30_000 });
    await timelineHas(page, 'message');

    // Other types from the phone (send-message, protobuf JSON): a reaction to
    // the page's message and an edit of the phone's own show on those
    // bubbles; a poll shows with its options.
    const mineID = await page.getAttribute('#msgs .bubble.out:has-text("Hello from the browser")', 'data-id');
    const theirsID = await phone.getAttribute('#msgs .bubble.out:has-text("Hi from Alice, through fakewa")', 'data-id');
    await phone.evaluate(async ([mine, theirs]) => {
      const { phone: me, peer } = await (await fetch('/config.json')).json();
      for (const message of [
        { reactionMessage: { key: { remoteJID: me.jid, fromMe: false, ID: mine }, text: '👍', senderTimestampMS: String(Date.now()) } },
        { protocolMessage: { type: 'MESSAGE_EDIT', key: { remoteJID: me.jid, fromMe: true, ID: theirs }, editedMessage: { conversation: 'Hi from Alice, edited' } } },
        { pollCreationMessage: { name: 'Lunch?', options: [{ optionName: 'pizza' }, { optionName: 'salad' }], selectableOptionsCount: 1 } },
      ]) {
        const res = await fetch(`/api/accounts/${peer.phone}/send-message`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: me.jid, message }) });
        if (!res.ok) throw new Error(`send-message: ${await res.text()}`);
      }
    }, [mineID, theirsID]);
    await page.waitForSelector(`#msgs .bubble[data-id="${mineID}"] .reactions:has-text("👍")`, { timeout: 30_000 });
    await page.waitForSelector(`#msgs .bubble[data-id="${theirsID}"]:has-text("Hi from Alice, edited"):has-text("edited ·")`, { timeout: 30_000 });
    const poll = await page.waitForSelector('#msgs .bubble[data-type="poll"]', { timeout: 30_000 });
    assert.deepEqual(await poll.$$eval('ul.poll li', (lis) => lis.map((li) => li.textContent)), ['pizza', 'salad']);
    assert.match(await poll.textContent(), /Poll: Lunch\?/);

    // An image from the phone (a 48×32 PNG drawn on its canvas) shows as a
    // picture the client downloaded and decrypted, or, on a wasmeow with no
    // downloadMedia, as a placeholder with the caption saying why.
    await phone.click('#send-image');
    const imgBubble = await page.waitForSelector('#msgs .bubble[data-type="image"]:not(.out)', { timeout: 30_000 });
    if (await page.evaluate(() => document.body.dataset.downloadMedia === 'true')) {
      const img = await page.waitForSelector('#msgs .bubble[data-type="image"] img.media', { timeout: 30_000 });
      await page.waitForFunction((n) => n.complete && n.naturalWidth > 0, img);
      assert.deepEqual(await img.evaluate((n) => [n.naturalWidth, n.naturalHeight]), [48, 32]);
      await page.screenshot({ path: join(resultsDir, 'demo-image.png') });
    } else {
      assert.match(await imgBubble.textContent(), /no (downloadMedia|media descriptor).*A 48×32 picture from Alice/s);
    }

    // The peer creates a group with the demo account: it shows in the page's
    // groups panel; the page writes to it and the phone gets the message.
    await phone.click('#create-group');
    const groupItem = await page.waitForSelector('#groups li[data-jid]:has-text("Demo group 1")', { timeout: 30_000 });
    await groupItem.click();
    const groupJID = await page.inputValue('#chat-to');
    assert.match(groupJID, /@g\.us$/);
    assert.match(await page.textContent('#groups li.active'), /2 members/);
    await page.fill('#send-text', 'Hello, group');
    await page.click('#send');
    await page.waitForSelector('#msgs .bubble.out >> text=Hello, group');
    await phone.waitForSelector(`#msgs .bubble[data-chat="${groupJID}"] >> text=Hello, group`, { timeout: 30_000 });

    // Backup: the remote strategy's snapshot becomes downloadable.
    await page.waitForSelector('#backup:not([disabled])', { timeout: 30_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#backup')]);
    const saved = join(tmp, download.suggestedFilename()); // the page names the session after it
    await download.saveAs(saved);
    assert.ok(statSync(saved).size > 100, 'the backup holds a snapshot');
    assert.match(download.suggestedFilename(), /^wasmeow-demo-.*\.snapshot$/);

    await page.screenshot({ path: join(resultsDir, 'demo.png'), fullPage: true });
    await phone.screenshot({ path: join(resultsDir, 'demo-phone.png'), fullPage: true });

    // A second session links with a pairing code typed into the phone.
    await page.fill('#new-client-id', 'by-code');
    await page.click('#new-session button');
    await page.waitForSelector('#sessions li.active[data-client-id="by-code"]');
    await page.waitForSelector('#sessions li[data-client-id="demo"]');
    await page.click('#connect');
    await page.waitForSelector('#pair-submit:not([disabled])', { timeout: 30_000 });
    await page.click('#pair-submit');
    const code = (await (await page.waitForSelector('#pair-code', { timeout: 30_000 })).textContent()).trim();
    assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await phone.fill('#link-code', code);
    await phone.click('#code-form button');
    await phone.waitForFunction(() => /^linked /.test(document.getElementById('code-status').textContent), null, { timeout: 60_000 });
    await page.waitForSelector('body[data-status="ready"]', { timeout: 30_000 });

    // Deleting the first session by clientId removes it from the list.
    page.on('dialog', (d) => d.accept());
    await page.click('#sessions li[data-client-id="demo"] button');
    await page.waitForSelector('#sessions li[data-client-id="demo"]', { state: 'detached', timeout: 20_000 });

    // The backup restores the deleted session in a browser profile that never
    // saw it: ready with no QR.
    const fresh = await context.newPage();
    shots['demo-restored'] = fresh;
    fresh.on('pageerror', (e) => errors.push(`fresh page: ${e.message}`));
    await fresh.goto(baseURL);
    await fresh.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    await fresh.setInputFiles('#restore-file', saved);
    // The timeline is newest first: a session picked after the restore.
    await fresh.waitForFunction(() => {
      const evs = [...document.querySelectorAll('#timeline li')].map((li) => li.dataset.event);
      const restore = evs.indexOf('restore');
      return restore > 0 && evs.slice(0, restore).includes('session');
    });
    await fresh.waitForSelector('#sessions li.active[data-client-id="demo"]');
    await fresh.waitForSelector('#connect:not([disabled])');
    await fresh.click('#connect');
    await fresh.waitForSelector('body[data-status="ready"]', { timeout: 30_000 });
    assert.match(await fresh.textContent('#timeline li[data-event="authenticated"]'), /stored session/);
    assert.equal(await fresh.$('#timeline li[data-event="qr"]'), null, 'a restored session shows no QR');
    await fresh.context().close();

    // The phone logs the code-linked device out: the page hears it and the
    // session is wiped from this browser.
    const codeJID = (await page.textContent('#me')).match(/me\s*(\S+@s\.whatsapp\.net)/)[1];
    await phone.click('#devices li:has-text("' + codeJID + '") button');
    await timelineHas(page, 'logged_out');
    await page.waitForSelector('#sessions li[data-client-id="by-code"][data-stored="false"]', { timeout: 20_000 });
    await page.click('#connect');
    await page.waitForSelector('#qr-image', { timeout: 30_000 }); // a fresh QR for the wiped session

    assert.deepEqual(errors, [], 'no uncaught errors in the pages');
  } catch (err) {
    // Keep pictures of the pages and the server's last words.
    for (const [name, p] of Object.entries(shots)) {
      await p.screenshot({ path: join(resultsDir, `${name}-failure.png`), fullPage: true }).catch(() => {});
    }
    console.error(demo.logs().split('\n').slice(-40).join('\n'));
    throw err;
  }
});

test('relay mode: the page links through the relay to an upstream server', async (t) => {
  const fakewa = startProcess(buildGo('./cmd/fakewa', 'fakewa'), ['-addr', '127.0.0.1:0'],
    [/base URL:\s+(\S+)/, /websocket URL:\s+(\S+)/, /root key:\s+(\S+)/]);
  const cleanup = [fakewa.stop];
  // One hook, closing the browser first, then the demo, then fakewa.
  t.after(async () => { for (const f of cleanup.reverse()) await f(); });
  const [fakewaURL, upstream, rootKey] = await fakewa.ready;
  const api = async (path, body) => {
    const res = await fetch(fakewaURL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const data = await res.json();
    assert.ok(res.ok, `fakewa ${path}: ${JSON.stringify(data)}`);
    return data;
  };
  await api('/api/accounts', { phone: '15550107777', pushName: 'Relay Phone' });

  // The page only knows the relay; the trust root is fakewa's since it is no real WhatsApp.
  const demo = startProcess(buildGo('./cmd/demo', 'demo'),
    ['-addr', '127.0.0.1:0', '-quiet', '-upstream', upstream, '-upstream-root-key', rootKey], [/demo page:\s+(http:\/\/\S+\/)\s/]);
  cleanup.push(demo.stop);
  const [baseURL] = await demo.ready;
  const { browser, open, errors } = await openPages(baseURL);
  cleanup.push(() => browser.close());

  const page = await open('');
  try {
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    assert.match(await page.textContent('#mode'), /^relay to ws:\/\//);
    assert.equal(await page.isVisible('#phone-link'), false, 'no simulated phone in relay mode');
    await page.click('#connect');
    const qr = await page.waitForSelector('#qr-image', { timeout: 30_000 });
    const { device } = await api('/api/accounts/15550107777/scan', { qr: await qr.getAttribute('data-code') });
    await page.waitForSelector('body[data-status="ready"]', { timeout: 30_000 });
    assert.match(await page.textContent('#me'), new RegExp(device.replace(/[.:]/g, '\\$&')));
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  } catch (err) {
    await page.screenshot({ path: join(resultsDir, 'demo-relay-failure.png'), fullPage: true }).catch(() => {});
    console.error(demo.logs().split('\n').slice(-40).join('\n'));
    throw err;
  }
});
