// cgroup v2 ids to paths, as ss -e and --cgroup print them: a cgroup's id is the inode
// number of its directory in the cgroup2 mount, so one walk of the tree names them all.
// Bounded (depth and directory count), and unreadable directories are skipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';

const MAX_DEPTH = 32;
const MAX_DIRECTORIES = 100_000;

/** Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid mode); null when it is not. */
export function cgroup2Mount(mounts = '/proc/self/mounts'): string | null {
  try {
    for (const line of readFileSync(mounts, 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'cgroup2' && f[1]) return f[1].replace(/\\040/g, ' ');
    }
  } catch {
    // no /proc: no names
  }
  return null;
}

/** id -> path ('/' for the root, '/system.slice/ssh.service' ...); empty when cgroup2 is not mounted. */
export function loadCgroupPaths(mount: string | null = cgroup2Mount()): Map<number, string> {
  const paths = new Map<number, string>();
  if (mount === null) return paths;
  let count = 0;
  const walk = (dir: string, rel: string, depth: number): void => {
    if (count++ >= MAX_DIRECTORIES) return;
    try {
      paths.set(statSync(dir).ino, rel === '' ? '/' : rel);
      if (depth >= MAX_DEPTH) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`, `${rel}/${e.name}`, depth + 1);
      }
    } catch {
      // vanished or unreadable: not named
    }
  };
  walk(mount, '', 0);
  return paths;
}
