// A smoke run of the end-to-end benchmark (make bench-e2e) at tiny sizes, so
// that its harness cannot rot: every client kind sets up, runs every
// workload and yields a positive figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { webDir } from '../test-support/e2e.js';

test('the end-to-end benchmark runs every workload on each kind of client', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-bench-smoke-'));
  const json = join(dir, 'figures.json');
  try {
    const { stdout } = await promisify(execFile)('node', ['scripts/bench-e2e.mjs', '--runs', '1', '--backlog', '3', '--live', '3',
      '--sends', '2', '--clients', '2', '--per-client', '2', '--loads', '1', '--big', '2', '--only', 'wasmeow,native-full,baileys', '--json', json],
    { cwd: webDir, timeout: 180000, maxBuffer: 1 << 24 });
    assert.match(stdout, /\| figure \| wasmeow \| native-full \| baileys \|/);
    const figures = JSON.parse(readFileSync(json, 'utf8'));
    const want = {
      'receive a backlog of 3 texts on connect (msg/s)': ['wasmeow', 'native-full', 'baileys'],
      'receive 3 live texts (msg/s)': ['wasmeow', 'native-full', 'baileys'],
      'send 2, one after another (msg/s)': ['wasmeow', 'native-full', 'baileys'],
      'send 2, 10 in flight (msg/s)': ['wasmeow', 'native-full', 'baileys'],
      '2 clients in one page/process receiving 2 each at once, total (msg/s)': ['wasmeow', 'native-full'],
      "… the same, wasmeow's 2 clients in one page over 2 dedicated Workers (natively: the same one process again) (msg/s)": ['wasmeow', 'native-full'],
      'reload to ready, restored session (ms)': ['wasmeow', 'native-full'],
      'open a big account (10 contacts, 4 sessions, 1 sender keys, 40 message secrets and MACs): storage opened, device loaded (ms)': ['wasmeow', 'native-full'],
      '… and to ready (natively: to Connected) (ms)': ['wasmeow', 'native-full'],
    };
    for (const [figure, kinds] of Object.entries(want)) {
      for (const k of kinds) {
        const xs = figures[figure]?.[k];
        assert.ok(xs?.length >= 1 && xs.every((x) => Number.isFinite(x) && x > 0), `${figure} · ${k}: ${JSON.stringify(xs)}`);
      }
    }
    const mem = figures['memory after ready, one client (MB)'].wasmeow[0];
    assert.ok(mem.rss > mem.linear && mem.linear > 1 << 20 && mem.jsHeap > 0, JSON.stringify(mem));
    // Each Worker runs its own instance (its own linear memory).
    const worker = figures['memory per dedicated Worker, its module loaded (MB)'].wasmeow[0];
    assert.ok(worker.linear > 1 << 20, JSON.stringify(worker));
    // CPU time of the backlog (10 ms clock ticks: a 3-text backlog may read 0).
    const cpu = figures['… CPU time per message of the backlog (ms): the page\'s renderer and the whole browser; natively the process'];
    assert.ok(cpu.wasmeow[0].browser >= cpu.wasmeow[0].renderer && cpu.wasmeow[0].renderer >= 0, JSON.stringify(cpu));
    assert.ok(cpu['native-full'][0].process >= 0, JSON.stringify(cpu));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
