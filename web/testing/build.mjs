// Stages and packs the test kit (`make package`; not published from here):
// dist/npm/kit/wasmeow-testing-<version>.tgz and one
// dist/npm/kit/wasmeow-fakewa-<platform>-<version>.tgz per platform, each
// holding dist/fakewa/<platform>/fakewa[.exe] (cross-built by the Makefile,
// CGO off) with os/cpu fields, the way esbuild ships its binary.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const dist = join(repo, 'dist');
const final = join(dist, 'npm', 'kit');
// Staged beside it and swapped in at the end, so that a concurrent build or
// test never sees a half-written folder.
const out = `${final}.tmp-${process.pid}`;
const license = join(repo, 'web/package/LICENSE');

const main = JSON.parse(readFileSync(join(repo, 'web/package/package.json'), 'utf8'));
const kit = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const { version } = main;
if (kit.version !== version) throw new Error(`web/testing/package.json version ${kit.version} differs from wasmeow's ${version}`);

const OS = { linux: 'Linux', darwin: 'macOS', win32: 'Windows' };
const platforms = Object.keys(kit.optionalDependencies).map((name) => {
  const m = /^@wasmeow\/fakewa-(\w+)-(\w+)$/.exec(name);
  if (!m) throw new Error(`optional dependency ${name} is not @wasmeow/fakewa-<os>-<cpu>`);
  if (kit.optionalDependencies[name] !== version) throw new Error(`${name} must be pinned to ${version}`);
  return { name, os: m[1], cpu: m[2], exe: m[1] === 'win32' ? 'fakewa.exe' : 'fakewa' };
});

mkdirSync(out, { recursive: true });
process.on('exit', () => rmSync(out, { recursive: true, force: true })); // a failed build's leftovers

function pack(dir) {
  for (const p of JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }))) {
    console.log(`${join(final, p.filename)}: ${p.size} bytes packed, ${p.unpackedSize} unpacked, ${p.entryCount} files`);
  }
}

// The kit.
const stage = join(out, 'wasmeow-testing');
mkdirSync(stage);
for (const f of kit.files) copyFileSync(join(here, f), join(stage, f));
copyFileSync(join(here, 'README.md'), join(stage, 'README.md'));
copyFileSync(license, join(stage, 'LICENSE'));
writeFileSync(join(stage, 'package.json'), JSON.stringify(kit, null, 2) + '\n');
pack(stage);

// One package per platform.
for (const p of platforms) {
  const bin = join(dist, 'fakewa', `${p.os}-${p.cpu}`, p.exe);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: make package builds it`);
  const dir = join(out, `fakewa-${p.os}-${p.cpu}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(bin, join(dir, 'bin', p.exe));
  chmodSync(join(dir, 'bin', p.exe), 0o755);
  copyFileSync(license, join(dir, 'LICENSE'));
  writeFileSync(join(dir, 'README.md'), `# ${p.name}\n\nThe fakewa binary (the offline WhatsApp server double of wasmeow) for ${OS[p.os]} ${p.cpu}.\n`
    + 'Installed by `wasmeow-testing` as an optional dependency on this platform only; do not depend on it directly.\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: p.name,
    version,
    description: `fakewa for ${OS[p.os]} ${p.cpu}, the binary of wasmeow-testing`,
    license: 'MPL-2.0',
    os: [p.os],
    cpu: [p.cpu],
    files: [`bin/${p.exe}`],
    preferUnplugged: true,
  }, null, 2) + '\n');
  pack(dir);
}
const count = readdirSync(out).filter((f) => f.endsWith('.tgz')).length;
rmSync(final, { recursive: true, force: true });
renameSync(out, final);
console.log(`test kit: ${count} tarballs in ${final}`);
