// Stages the npm package wasmeow in dist/npm/wasmeow/ and packs it into
// dist/npm/wasmeow-<version>.tgz (`make package`; not published from here).
// dist/ must hold the build (`make wasm`) and wasmeow.wasm.br/.gz.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = join(repo, 'dist');
const out = join(dist, 'npm');
const stage = join(out, 'wasmeow');

const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const sources = {
  'wasmeow.js': join(repo, 'web/wasmeow.js'),
  'wasmeow.d.ts': join(repo, 'web/wasmeow.d.ts'),
  'wasmeow.wasm': join(dist, 'wasmeow.wasm'),
  'wasmeow.wasm.br': join(dist, 'wasmeow.wasm.br'),
  'wasmeow.wasm.gz': join(dist, 'wasmeow.wasm.gz'),
  'wasm_exec.js': join(dist, 'wasm_exec.js'),
  'README.md': join(here, 'README.md'),
  LICENSE: join(here, 'LICENSE'),
};
for (const f of manifest.files) if (!sources[f]) throw new Error(`package.json files lists ${f}, which build.mjs does not stage`);
for (const [f, src] of Object.entries(sources)) if (!existsSync(src)) throw new Error(`${src} is missing (for ${f}): run make wasm`);

// The compressed copies must be of this wasm (dist/ may have been rebuilt since).
const wasm = readFileSync(sources['wasmeow.wasm']);
if (!brotliDecompressSync(readFileSync(sources['wasmeow.wasm.br'])).equals(wasm)
  || !gunzipSync(readFileSync(sources['wasmeow.wasm.gz'])).equals(wasm)) {
  throw new Error('dist/wasmeow.wasm.br or .gz is not of dist/wasmeow.wasm (rebuilt meanwhile?): run make package again');
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const [f, src] of Object.entries(sources)) copyFileSync(src, join(stage, f));
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

for (const f of readdirSync(out)) if (f.endsWith('.tgz')) rmSync(join(out, f));
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }));
for (const p of packed) {
  console.log(`${join(out, p.filename)}: ${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.entryCount} files`);
}
