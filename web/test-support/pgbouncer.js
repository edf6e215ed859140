// PgBouncer in transaction mode in front of a throwaway PostgreSQL, for the
// fleet benchmark's --pgbouncer (docs/FLEET.md): Debian's pgbouncer
// package, a config in a temporary folder, 127.0.0.1 on a free port.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/sbin/pgbouncer';

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/**
 * Starts PgBouncer (pool_mode = transaction, poolSize server connections)
 * for the PostgreSQL at dsn (key=value form, as dev-postgres prints it).
 * Resolves with { dsn (through PgBouncer, without prepared statements), close() }.
 */
export async function startPgbouncer(dsn, poolSize) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: apt-get install pgbouncer`);
  const kv = Object.fromEntries(dsn.trim().split(/\s+/).map((p) => p.split('=')));
  const dir = mkdtempSync(join(tmpdir(), 'wasmeow-pgbouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'users.txt'), `"${kv.user}" ""\n`);
  writeFileSync(join(dir, 'pgbouncer.ini'), `[databases]
${kv.dbname} = host=${kv.host} port=${kv.port} dbname=${kv.dbname} user=${kv.user}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'users.txt')}
pool_mode = transaction
default_pool_size = ${poolSize}
max_client_conn = 1000
logfile = ${join(dir, 'pgbouncer.log')}
`);
  // PgBouncer refuses to run as root: then it runs as the account PostgreSQL runs as.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) { chmodSync(dir, 0o777); execFileSync('chown', ['-R', kv.user, dir]); }
  const args = [join(dir, 'pgbouncer.ini')];
  const proc = asRoot ? spawn('runuser', ['-u', kv.user, '--', BIN, ...args], { stdio: 'ignore' }) : spawn(BIN, args, { stdio: 'ignore' });
  // Ready once it accepts connections.
  for (let i = 0; ; i++) {
    const up = await new Promise((r) => {
      const c = createServer().listen(port, '127.0.0.1');
      c.once('listening', () => c.close(() => r(false)));
      c.once('error', () => r(true));
    });
    if (up) break;
    if (proc.exitCode !== null || i > 100) throw new Error(`pgbouncer did not start (exit ${proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dsn: `host=127.0.0.1 port=${port} user=${kv.user} dbname=${kv.dbname} sslmode=disable`,
    close: () => new Promise((r) => {
      const done = () => { rmSync(dir, { recursive: true, force: true }); r(); };
      if (proc.exitCode !== null) return done();
      proc.on('exit', done);
      proc.kill('SIGTERM');
    }),
  };
}
