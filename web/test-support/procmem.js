// Memory of a chromium launched on a profile folder, read from /proc (Linux):
// the browser process is the one started with --user-data-dir=<dir>, the
// rest are its descendants (renderers, GPU, network and storage services).
import { readdirSync, readFileSync } from 'node:fs';

function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    // PSS: each shared page divided among the processes that map it, so a sum over processes holds.
    const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    // Chromium retitles its children (setproctitle): their command line is then one string.
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return { pid: Number(pid), ppid, rss, pss, args };
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

/**
 * {total, renderer, rendererRSS, processes}: proportional set size (PSS)
 * of every process of the browser on profile dir together, the largest
 * renderer's PSS and RSS, and how many processes.
 */
export function processRSS(dir) {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(readProc).filter(Boolean);
  const root = procs.find((p) => p.args.includes(`--user-data-dir=${dir} `) && !p.args.includes('--type='));
  if (!root) return { total: 0, renderer: 0, rendererRSS: 0, processes: 0 };
  const tree = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!tree.has(p.pid) && tree.has(p.ppid)) { tree.add(p.pid); grew = true; }
  }
  const mine = procs.filter((p) => tree.has(p.pid));
  const renderers = mine.filter((p) => p.args.includes('--type=renderer'));
  return {
    total: mine.reduce((a, p) => a + p.pss, 0),
    renderer: Math.max(0, ...renderers.map((p) => p.pss)),
    rendererRSS: Math.max(0, ...renderers.map((p) => p.rss)),
    processes: mine.length,
  };
}
