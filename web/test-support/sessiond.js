// The session service for e2e tests: a throwaway PostgreSQL
// (wasmeow-sessiond dev-postgres: initdb in a temporary folder, a unix
// socket there, removed when it stops) and wasmeow-sessiond on a free port,
// which restart() stops and starts again on the same port and database.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoDir } from './e2e.js';
import { startPgbouncer } from './pgbouncer.js';

let bin = null;

function build() {
  if (bin) return bin;
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-sessiond-'));
  bin = join(dir, 'wasmeow-sessiond');
  execFileSync('go', ['build', '-o', bin, './cmd/wasmeow-sessiond'], { cwd: repoDir, stdio: 'inherit' });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return bin;
}

// psql from Debian's PostgreSQL (beside initdb), else $PATH.
function psql() {
  const dirs = readdirSync('/usr/lib/postgresql', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort().reverse();
  for (const v of dirs) { const p = `/usr/lib/postgresql/${v}/bin/psql`; if (existsSync(p)) return p; }
  return 'psql';
}

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// Starts a process and resolves with its first stdout line matching re.
function startUntil(args, re, what) {
  const proc = spawn(build(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${out}${err}`)), 60000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) { clearTimeout(t); resolve(m); }
    });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`${what} exited with ${code}: ${out}${err}`)); });
  });
  return { proc, ready, stderr: () => err };
}

const stop = (proc, signal = 'SIGTERM') => new Promise((r) => {
  if (proc.exitCode !== null || proc.signalCode !== null) return r();
  proc.on('exit', r);
  proc.kill(signal);
});

// A self-signed certificate for 127.0.0.1 in a temporary folder: {cert, key, pem}.
function selfSigned() {
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-sessiond-tls-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, pem: readFileSync(cert) };
}

// One HTTP(S) request from node (trusting ca over TLS); resolves with { status, bytes }.
const send = (url, { method, headers, body }, ca) => new Promise((resolve, reject) => {
  const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method, headers, ca }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, bytes: new Uint8Array(Buffer.concat(chunks)) }));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end(body);
});

/**
 * Starts PostgreSQL and the service with tenants ({name: 'native' | 'e2e'}).
 * Options: metricsToken (serve -metrics-token: GET /metrics), poolMaxConns
 * (the service's pgx pool size), pgbouncer (a number: the service reaches
 * PostgreSQL through PgBouncer in transaction mode with that many server
 * connections), queryExecMode (pgx's default_query_exec_mode, e.g. exec),
 * tls (HTTPS, and so HTTP/2 for browsers, with a self-signed certificate:
 * open the pages with ignoreHTTPSErrors). Resolves with { url, tokens: {name: token}, api(token, method, path, body,
 * fence), metrics({reset}), sql(query), restart(), close() }.
 */
export async function startSessiond(tenants = { fleet: 'native' }, { metricsToken = '', poolMaxConns = 0, pgbouncer = 0, queryExecMode = '', tls = false } = {}) {
  build();
  const cert = tls ? selfSigned() : null;
  const pg = startUntil(['dev-postgres'], /^(host=.*)$/m, 'dev-postgres');
  const dsn = (await pg.ready)[1].trim();
  const bouncer = pgbouncer ? await startPgbouncer(dsn, pgbouncer) : null;
  const serveDSN = [bouncer?.dsn ?? dsn, poolMaxConns && `pool_max_conns=${poolMaxConns}`, queryExecMode && `default_query_exec_mode=${queryExecMode}`].filter(Boolean).join(' ');
  const tokens = {};
  for (const [name, mode] of Object.entries(tenants)) {
    tokens[name] = execFileSync(bin, ['tenant-add', '-dsn', dsn, '-name', name, '-mode', mode], { encoding: 'utf8' }).trim();
  }
  const port = await freePort();
  let serve;
  const start = async () => {
    serve = startUntil(['serve', '-dsn', serveDSN, '-listen', `127.0.0.1:${port}`, ...(metricsToken ? ['-metrics-token', metricsToken] : []),
      ...(cert ? ['-tls-cert', cert.cert, '-tls-key', cert.key] : [])], /listening on (https?:\/\/\S+)/, 'wasmeow-sessiond');
    await serve.ready;
  };
  await start();
  const url = `${cert ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    url, dsn, tokens, bin,
    /** Runs a wasmeow-sessiond subcommand on this database; resolves with its stdout. */
    run: (cmd, ...args) => execFileSync(bin, [cmd, '-dsn', dsn, ...args], { encoding: 'utf8' }),
    /** Runs SQL on the database with psql; resolves with its unaligned rows. */
    sql: (query, on = dsn) => execFileSync(psql(), [on, '-At', '-c', query], { encoding: 'utf8' }).trim(), // on: another database's DSN
    /** A call to the service as a tenant; resolves with { status, json, bytes }. */
    async api(token, method, path, body, fence) {
      const headers = { Authorization: `Bearer ${token}` };
      if (fence !== undefined) headers['Wasmeow-Fence'] = String(fence);
      const { status, bytes } = await send(`${url}/v1/sessions/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, cert?.pem);
      let json = null;
      try { json = JSON.parse(new TextDecoder().decode(bytes)); } catch { /* bytes */ }
      return { status, json, bytes };
    },
    /** The service's GET /metrics (needs metricsToken); reset zeroes its counters after reading. */
    async metrics({ reset = false } = {}) {
      const res = await send(`${url}/metrics${reset ? '?reset' : ''}`, { method: 'GET', headers: { Authorization: `Bearer ${metricsToken}` } }, cert?.pem);
      const text = new TextDecoder().decode(res.bytes);
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${text}`);
      return JSON.parse(text);
    },
    /** The service process (its pid, for its memory). */
    get proc() { return serve.proc; },
    /** Stops the service (SIGKILL when hard) and, after pauseMs, starts it again on the same port. */
    async restart({ hard = false, pauseMs = 0 } = {}) {
      await stop(serve.proc, hard ? 'SIGKILL' : 'SIGTERM');
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      await start();
    },
    async close() {
      await stop(serve.proc);
      await bouncer?.close();
      pg.proc.stdin.end(); // dev-postgres stops PostgreSQL and removes its folder
      await new Promise((r) => { if (pg.proc.exitCode !== null) r(); else pg.proc.on('exit', r); });
    },
  };
}
