// A smoke run of the fleet benchmark (make bench-fleet) at a tiny size, so
// that its harness cannot rot: 2 chromium processes × 2 sessions paired by
// QR on httpKeyStore (the service over HTTPS, so HTTP/2), a few seconds of
// texts and a burst; every figure is produced, every text reached its page,
// no retry of any kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { webDir } from '../test-support/e2e.js';

const ordered = (l) => l.p50 > 0 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max;

test('the fleet benchmark pairs sessions in several browsers, delivers every text and measures pages, service and database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-bench-fleet-'));
  const json = join(dir, 'figures.json');
  try {
    // On failure the rejection carries the script's stderr (its progress log and the cause).
    const { stdout } = await promisify(execFile)('node', ['scripts/bench-fleet.mjs', '--sessions', '4', '--processes', '2', '--duration', '3',
      '--rate', '1', '--burst', '3', '--ttl', '3000', '--timeout', '60', '--stats-settle', '0', '--tls', '--json', json], { cwd: webDir, timeout: 120000, maxBuffer: 1 << 24 });
    assert.match(stdout, /\| figure \| value \|/);
    const f = JSON.parse(readFileSync(json, 'utf8'));
    // Nothing lost: every text sent reached its page, once.
    assert.deepEqual([f.steady.sent, f.steady.delivered, f.burst.sent, f.burst.delivered], [12, 12, 12, 12]);
    // A text shown twice is one the server sent again (an ack later than fakewa's 10 s on a loaded machine), flagged as such.
    assert.equal(f.pages.unmarkedRepeats, 0, 'a text shown again without redelivered: true');
    assert.ok(f.pages.repeats === 0 || f.serverResends > 0, `texts shown twice with no resend: ${f.pages.repeats}`);
    assert.deepEqual(f.retryReceipts, [], 'no retry receipt');
    assert.equal(f.pages.retries, 0, 'no request to the service retried');
    assert.deepEqual([f.pages.errors, f.pages.lost], [[], []]);
    assert.ok(f.pairMs > 0 && f.steady.perSec > 0 && f.burst.perSec > 0, JSON.stringify([f.pairMs, f.steady, f.burst]));
    // The service's figures: writes, and renewals (TTL 3 s: one a second per session).
    for (const op of ['keys.set', 'lease.renew']) {
      const o = f.service.ops[op];
      assert.ok(o?.count > 0 && ordered({ p50: o.p50Ms, p95: o.p95Ms, p99: o.p99Ms, max: o.maxMs }), `${op}: ${JSON.stringify(o)}`);
      assert.equal(o.errors, undefined, `${op} errors`);
    }
    assert.ok(f.service.ops['lease.renew'].count >= 4, 'renewals of every session');
    // --tls: the pages speak HTTP/2 to the service (over HTTP/1.1 a page has at most 6 requests in flight to it).
    assert.deepEqual(Object.keys(f.service.protos), ['HTTP/2.0'], JSON.stringify(f.service.protos));
    // The pages' figures: each keys.set timed as the client waited on it; renewals seen there too.
    assert.ok(f.pages.calls['keys.set'].n > 0 && ordered(f.pages.calls['keys.set']), JSON.stringify(f.pages.calls));
    assert.ok(f.pages.requests['POST lease/renew']?.attempts >= 4, JSON.stringify(f.pages.requests));
    assert.ok(f.pages.maxInFlight.length === 2 && f.pages.maxInFlight.every((n) => n >= 1), JSON.stringify(f.pages.maxInFlight));
    assert.ok(f.pgConns.max >= 1 && f.pgConns.maxWhilePairing >= 1 && f.pgConns.poolMax >= 1 && f.pgConns.maxConns === 20, JSON.stringify(f.pgConns));
    assert.equal(f.memory.length, 2);
    for (const m of f.memory) assert.ok(m.total > m.renderer && m.renderer > 1 << 20 && m.rendererRSS >= m.renderer && m.processes > 2 && m.wasmLinear > 16 << 20 && m.jsHeap > 0, JSON.stringify(m));
    assert.ok(f.load.mean > 0);
    assert.equal(f.db.keys.sessions, 4);
    assert.ok(f.db.keys.rows > 4 && f.db.tables.sessiond_keys.bytes > 0 && f.db.tables.sessiond_leases.rows >= 4, JSON.stringify(f.db));
    assert.equal(f.db.byType.reduce((a, t) => a + t.rows, 0), f.db.keys.rows, JSON.stringify(f.db.byType));
    // --stats-settle 0: the rows and transactions are partial (PostgreSQL reports them late); the WAL is exact.
    assert.ok(f.dbWritten.walBytes > 0, JSON.stringify(f.dbWritten));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
