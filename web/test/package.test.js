// The npm package (`make package`): what the tarball holds, its manifest,
// the precompressed wasm, and the bytes a browser downloads from a common
// static server with and without the precompressed files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { packedTarball, startAssetServer } from '../test-support/package.js';

let tarball, dir, pkg;

before(() => {
  tarball = packedTarball();
  dir = mkdtempSync(join(tmpdir(), 'wasmeow-pkg-'));
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  pkg = join(dir, 'package');
});

after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

test('the tarball holds the module, its types, the wasm (raw, .br, .gz), wasm_exec.js, README and LICENSE only', () => {
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  assert.deepEqual(files, ['LICENSE', 'README.md', 'package.json', 'wasm_exec.js', 'wasmeow.d.ts', 'wasmeow.js',
    'wasmeow.wasm', 'wasmeow.wasm.br', 'wasmeow.wasm.gz']);
  for (const f of files) assert.doesNotMatch(f, /(^|\/)(test|tests|demo|scripts|node_modules)(\/|$)|\.map$|\.test\.|\.go$/, f);
  assert.match(readFileSync(join(pkg, 'LICENSE'), 'utf8'), /^Mozilla Public License Version 2\.0/);
});

test('package.json: exports the module with its types and the assets, files, sideEffects, MPL-2.0, no dependencies', () => {
  const m = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.equal(m.name, 'wasmeow');
  assert.equal(m.license, 'MPL-2.0');
  assert.equal(m.type, 'module');
  assert.equal(m.private, undefined, 'publishable');
  assert.equal(m.types, './wasmeow.d.ts');
  assert.deepEqual(m.exports['.'], { types: './wasmeow.d.ts', default: './wasmeow.js' });
  for (const a of ['./wasmeow.wasm', './wasmeow.wasm.br', './wasmeow.wasm.gz', './wasm_exec.js']) assert.equal(m.exports[a], a);
  for (const target of Object.values(m.exports).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v)))) {
    assert.ok(existsSync(join(pkg, target)), `export target ${target} is in the tarball`);
  }
  assert.ok(Array.isArray(m.sideEffects) && !m.sideEffects.includes('./wasmeow.js'), 'wasmeow.js is free of side effects');
  assert.equal(m.dependencies, undefined);
  assert.equal(m.scripts, undefined, 'no install scripts');
  // The module names its assets as bundlers recognise them.
  const src = readFileSync(join(pkg, 'wasmeow.js'), 'utf8');
  assert.match(src, /new URL\('\.\/wasmeow\.wasm', import\.meta\.url\)/);
  assert.match(src, /new URL\('\.\/wasm_exec\.js', import\.meta\.url\)/);
});

test('wasmeow.wasm.br and .gz hold wasmeow.wasm byte for byte', () => {
  const raw = readFileSync(join(pkg, 'wasmeow.wasm'));
  assert.deepEqual(raw.subarray(0, 4), Buffer.from([0, 0x61, 0x73, 0x6d]));
  assert.ok(brotliDecompressSync(readFileSync(join(pkg, 'wasmeow.wasm.br'))).equals(raw), '.br');
  assert.ok(gunzipSync(readFileSync(join(pkg, 'wasmeow.wasm.gz'))).equals(raw), '.gz');
});

// GETs url as a browser would (Accept-Encoding: gzip, deflate, br) and counts the bytes on the wire.
function wire(url, acceptEncoding = 'gzip, deflate, br, zstd') {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      let bytes = 0;
      res.on('data', (d) => { bytes += d.length; });
      res.on('end', () => resolve({ bytes, type: res.headers['content-type'], encoding: res.headers['content-encoding'] || 'none' }));
    }).on('error', reject).end();
  });
}

async function startPythonServer(root) {
  const proc = spawn('python3', ['-m', 'http.server', '0', '--bind', '127.0.0.1', '-d', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = /port (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
    proc.on('exit', (c) => reject(new Error(`python3 -m http.server exited with ${c}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGTERM'); }) };
}

test('bytes over the wire: a common static server vs. one that sends the precompressed wasm', async (t) => {
  const raw = readFileSync(join(pkg, 'wasmeow.wasm')).length;
  const rows = [];
  let python = null;
  try {
    python = await startPythonServer(pkg);
  } catch (e) {
    t.diagnostic(`python3 http.server unavailable: ${e.message}`);
  }
  if (python) {
    const r = await wire(`${python.url}/wasmeow.wasm`);
    rows.push(['python3 -m http.server (no compression)', r]);
    assert.equal(r.bytes, raw, 'python sends the file as it is');
    await python.close();
  }
  const plain = await startAssetServer(pkg);
  const pre = await startAssetServer(pkg, { precompressed: true });
  try {
    rows.push(['static server, no compression', await wire(`${plain.url}/wasmeow.wasm`)]);
    rows.push(['precompressed, browser accepts br', await wire(`${pre.url}/wasmeow.wasm`)]);
    rows.push(['precompressed, browser accepts gzip only', await wire(`${pre.url}/wasmeow.wasm`, 'gzip, deflate')]);
  } finally {
    await plain.close();
    await pre.close();
  }
  const lines = rows.map(([name, r]) => `${name.padEnd(42)} ${String(r.bytes).padStart(9)} bytes (${(r.bytes / 1e6).toFixed(1)} MB)  Content-Encoding: ${r.encoding}  Content-Type: ${r.type}`);
  console.log(`wasmeow.wasm over the wire (${raw} bytes raw):\n${lines.join('\n')}`);
  const br = rows.find(([n]) => n.includes('accepts br'))[1];
  assert.equal(br.encoding, 'br');
  assert.ok(br.bytes * 3 < raw, `brotli sends under a third of the raw size (${br.bytes} of ${raw})`);
  assert.equal(rows.find(([n]) => n.includes('gzip only'))[1].encoding, 'gzip');
});
