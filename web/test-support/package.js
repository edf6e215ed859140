// Shared set-up of the package and consumer tests: the packed tarball
// (`make package`), a fresh app outside the repo that installs it, and a
// static server that sends precompressed .br/.gz the way nginx's
// gzip_static or Caddy's `precompressed` do.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname, resolve } from 'node:path';
import { repoDir, distDir, webDir } from './e2e.js';

export const npmDir = join(distDir, 'npm');

/** Runs `make package` (a no-op when up to date) and returns the tarball's path. */
export function packedTarball() {
  execFileSync('make', ['-s', 'package'], { cwd: repoDir, stdio: ['ignore', 'inherit', 'inherit'] });
  const tgz = readdirSync(npmDir).filter((f) => /^wasmeow-.*\.tgz$/.test(f));
  if (tgz.length !== 1) throw new Error(`expected one wasmeow-*.tgz in ${npmDir}, found ${tgz}`);
  return join(npmDir, tgz[0]);
}

/**
 * A fresh app in a temp dir that installs the tarball as a user would
 * (`npm install <tgz>`), offline: the package has no dependencies. Its
 * bundlers are web/'s devDependencies, found through NODE_PATH or used from
 * this process.
 */
export function freshApp(tarball) {
  const root = mkdtempSync(join(tmpdir(), 'wasmeow-consumer-'));
  const dir = join(root, 'app'); // root/out/ can hold build outputs beside it
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'wasmeow-consumer', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return { root, dir, close: () => rmSync(root, { recursive: true, force: true }) };
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json', '.css': 'text/css' };

/**
 * Serves root. With precompressed, a request for x.wasm that accepts br
 * (gzip) gets x.wasm.br (.gz) with Content-Encoding. headers(path) adds
 * response headers; types overrides Content-Types by extension.
 */
export async function startAssetServer(root, { precompressed = false, headers = () => ({}), types = {}, fallback = null } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = resolve(root, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    const extra = headers(path);
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
    } catch {
      if (!fallback) return res.writeHead(404, extra).end('not found');
      file = join(root, fallback); // a single-page app's fallback page
    }
    const ext = extname(file);
    const head = { 'content-type': types[ext] ?? TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'no-store', ...extra };
    const accept = String(req.headers['accept-encoding'] || '');
    if (precompressed) {
      for (const [enc, suffix] of [['br', '.br'], ['gzip', '.gz']]) {
        if (!accept.includes(enc)) continue;
        try {
          const body = await readFile(file + suffix);
          res.writeHead(200, { ...head, 'content-encoding': enc, vary: 'accept-encoding', 'content-length': body.length });
          return res.end(body);
        } catch { /* no precompressed file */ }
      }
    }
    const body = await readFile(file);
    res.writeHead(200, { ...head, 'content-length': body.length });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

export { repoDir, distDir, webDir };
