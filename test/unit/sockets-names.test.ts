// User names from /etc/passwd, service names from /etc/services (first entry wins, as with
// getpwuid/getservbyport), and ss's rule that ephemeral ports get no service name.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEphemeralRange, parseServices, portNames } from '../../src/sockets/services.js';
import { loadUsers, parsePasswd } from '../../src/sockets/users.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');

describe('users', () => {
  it('maps uids to the first name, skipping comments and broken lines', () => {
    const users = parsePasswd('root:x:0:0::/root:/bin/sh\n# c\nbroken\ntoor:x:0:0::/root:/bin/sh\n:x:5:5::/:/bin/sh\nbob:x:abc:1::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash');
    expect([...users]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ]);
  });

  it('reads a passwd file once and tolerates a missing one', async () => {
    const file = join(procRoot, 'etc/passwd');
    const a = await loadUsers(file);
    expect(a.get(105)).toBe('postgres');
    expect(await loadUsers(file)).toBe(a);
    expect((await loadUsers(join(procRoot, 'etc/no-such-file'))).size).toBe(0);
  });
});

describe('services', () => {
  it('maps ports per protocol, first entry wins, ignoring comments and aliases', () => {
    const s = parseServices('# x\nhttp 80/tcp www # web\nhttp-alt 80/tcp\ndomain 53/udp\nbad 70000/tcp\nnope\n');
    expect([...s.tcp]).toEqual([[80, 'http']]);
    expect([...s.udp]).toEqual([[53, 'domain']]);
  });

  it('names no port in the ephemeral range, nor raw or unix ports', () => {
    const names = portNames(parseServices('socks 40000/tcp\nssh 22/tcp\ndomain 53/udp\n'), { from: 32768, to: 60999 });
    expect(names.of('tcp')[22]).toBe('ssh');
    expect(names.of('tcp')[40000]).toBeNull();
    expect(names.of('udplite')[53]).toBe('domain');
    expect(names.of('raw')[22]).toBeNull();
    expect(names.of('unix')[22]).toBeNull();
    expect(names.of('tcp')[0]).toBeNull();
  });

  it('reads the ephemeral range, falling back to ss default 1024-4999', async () => {
    expect(await loadEphemeralRange(procRoot)).toEqual({ from: 32768, to: 60999 });
    expect(await loadEphemeralRange(join(procRoot, 'nowhere'))).toEqual({ from: 1024, to: 4999 });
  });
});
