// uid -> user name from /etc/passwd, read once per file and process (ss -e and netstat -e
// print the same names getpwuid would).
import { readFileSync } from 'node:fs';

const cache = new Map<string, ReadonlyMap<number, string>>();

/** Parses passwd(5) text; the first entry of a uid wins, as with getpwuid. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2]!)) continue;
    const uid = Number(f[2]);
    if (!users.has(uid)) users.set(uid, f[0]!);
  }
  return users;
}

/** The uid map of `file`, or an empty one when it cannot be read (a small file: read in place). */
export function loadUsers(file: string): ReadonlyMap<number, string> {
  let users = cache.get(file);
  if (!users) {
    try {
      users = parsePasswd(readFileSync(file, 'utf8'));
    } catch {
      users = new Map<number, string>();
    }
    cache.set(file, users);
  }
  return users;
}
