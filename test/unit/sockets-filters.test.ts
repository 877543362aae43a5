// Filters applied while parsing: protocol, family, states and ss's groups, ports and ranges,
// addresses and CIDRs (IPv4 rules also match IPv4-mapped sockets), owner pid and command;
// and the TypeError/RangeError that name a bad option.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/sockets/filters.js';
import { listSockets, type ListSocketsOptions } from '../../src/sockets/index.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');

async function inodes(options: ListSocketsOptions): Promise<(number | null)[]> {
  return (await listSockets({ procRoot, ...options })).sockets.map((s) => s.inode);
}

describe('protocol and family', () => {
  it('reads only the tables asked for', () => {
    expect(compileFilter({ protocols: ['tcp'] }).tables.map((t) => t.file)).toEqual(['tcp', 'tcp6']);
    expect(compileFilter({ protocols: ['udp', 'raw'], families: ['inet6'] }).tables.map((t) => t.file)).toEqual(['raw6', 'udp6']);
    expect(compileFilter({ families: ['unix'] }).tables.map((t) => t.file)).toEqual(['unix']);
    // address and port filters say nothing about unix sockets: their table is skipped
    expect(compileFilter({ localPort: 22 }).tables.map((t) => t.file)).not.toContain('unix');
    // an IPv6-only address filter cannot match the IPv4 tables
    expect(compileFilter({ localAddress: '::1' }).tables.map((t) => t.file)).toEqual(['raw6', 'udp6', 'udplite6', 'tcp6']);
  });

  it('lists in ss order: unix, raw, udp, tcp', async () => {
    const protocols = (await listSockets({ procRoot })).sockets.map((s) => s.protocol);
    expect([...new Set(protocols)]).toEqual(['unix', 'raw', 'udp', 'tcp']);
  });
});

describe('states', () => {
  it('accepts kernel names, ss names and ss groups', async () => {
    expect(await inodes({ protocols: ['tcp'], states: ['ESTABLISHED'], families: ['inet'] })).toEqual([1003, 4294967295]);
    expect(await inodes({ protocols: ['tcp'], states: ['established'], families: ['inet'] })).toEqual([1003, 4294967295]);
    expect(await inodes({ protocols: ['tcp'], states: ['listening'] })).toEqual([1001, 1002, 1014, 2001, 2005]);
    // bucket: the minisockets (SYN_RECV and TIME_WAIT)
    const bucket = (await listSockets({ procRoot, protocols: ['tcp'], states: ['bucket'] })).sockets.map((s) => s.state);
    expect(bucket.sort()).toEqual(['SYN_RECV', 'TIME_WAIT']);
  });

  it('computes ss groups like ss', async () => {
    const statesOf = async (states: ListSocketsOptions['states'], excludeStates?: ListSocketsOptions['excludeStates']) =>
      new Set((await listSockets({ procRoot, protocols: ['tcp'], states, excludeStates })).sockets.map((s) => s.state));
    const connected = await statesOf(['connected']);
    expect(connected.has('LISTEN') || connected.has('CLOSE')).toBe(false);
    expect(connected.has('TIME_WAIT') && connected.has('SYN_SENT')).toBe(true);
    const synchronized = await statesOf(['synchronized']);
    expect(synchronized.has('SYN_SENT')).toBe(false);
    expect(synchronized.has('ESTABLISHED')).toBe(true);
    const big = await statesOf(['big']);
    expect(big.has('TIME_WAIT') || big.has('SYN_RECV')).toBe(false);
    expect(big.has('LISTEN')).toBe(true);
    expect(await statesOf(['all'], ['established', 'listening', 'time-wait'])).toEqual(
      new Set(['SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'NEW_SYN_RECV']),
    );
  });

  it('treats UNCONN and CLOSE as the same kernel state', async () => {
    const unconn = await listSockets({ procRoot, states: ['UNCONN'], protocols: ['udp', 'tcp'] });
    expect(unconn.sockets.map((s) => [s.protocol, s.state])).toEqual([
      ['udp', 'UNCONN'],
      ['udp', 'UNCONN'],
      ['udp', 'UNCONN'],
      ['tcp', 'CLOSE'],
    ]);
  });
});

describe('ports and addresses', () => {
  it('matches ports, ranges and any of several', async () => {
    expect(await inodes({ protocols: ['tcp'], localPort: 22, states: ['listening'] })).toEqual([1001, 2001, 2005]);
    // the SYN_RECV request socket from port 50001 has no inode
    expect(await inodes({ protocols: ['tcp'], remotePort: { from: 50000, to: 51000 } })).toEqual([1003, null, 2002]);
    expect(await inodes({ protocols: ['udp'], localPort: [53, 5353] })).toEqual([3001, 3004]);
  });

  it('matches addresses and CIDRs; IPv4 rules match IPv4-mapped IPv6 sockets', async () => {
    expect(await inodes({ protocols: ['tcp'], localAddress: '10.0.0.0/24', states: ['established'] })).toEqual([1003]);
    expect(await inodes({ protocols: ['tcp'], localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', states: ['established'] })).toEqual([2002]);
    expect(await inodes({ protocols: ['tcp'], localAddress: '::ffff:127.0.0.1' })).toEqual([2002]);
    expect(await inodes({ protocols: ['tcp'], localAddress: '2001:db8::/32' })).toEqual([2004]);
    expect(await inodes({ protocols: ['tcp'], remoteAddress: ['93.184.216.34', '2001:db8::2'] })).toEqual([1004, 2004]);
  });
});

describe('owners as filters', () => {
  it('keeps only the sockets of the given pids or commands, with owners filled in', async () => {
    const doc = await listSockets({ procRoot, pids: [200] });
    expect(doc.sockets.map((s) => s.inode)).toEqual([1002, 2002]);
    expect(doc.sockets[0]!.owners).toEqual([{ pid: 200, command: 'postgres', fd: 7 }]);
    expect(doc.ownersUnreadable).toEqual([]);
    expect(await inodes({ commands: ['sshd'] })).toEqual([1001, 1003, 2001]);
    expect(await inodes({ commands: ['dbus-daemon'] })).toEqual([5001]);
    expect(await inodes({ commands: ['nobody-has-this'] })).toEqual([]);
  });

  it('matches a command longer than comm keeps (15 characters)', async () => {
    expect(await inodes({ commands: ['dbus-daemon-with-a-long-name'] })).toEqual([]);
    expect(await inodes({ commands: ['dbus-daemon'.padEnd(15, 'x') + 'tail'] })).toEqual([]);
  });
});

describe('bad options', () => {
  const cases: [ListSocketsOptions, RegExp, ErrorConstructor][] = [
    [{ protocols: 'tcp' as never }, /option protocols must be an array/, TypeError],
    [{ protocols: ['sctp' as never] }, /option protocols must be/, RangeError],
    [{ families: ['inet4' as never] }, /option families/, RangeError],
    [{ states: ['ESTAB' as never] }, /option states must be state names/, RangeError],
    [{ excludeStates: [7 as never] }, /option excludeStates/, TypeError],
    [{ localPort: 70000 }, /option localPort must be an integer from 0 to 65535/, RangeError],
    [{ localPort: '22' as never }, /option localPort must be a port number/, TypeError],
    [{ remotePort: { from: 10, to: 5 } }, /option remotePort must be a range with from <= to/, RangeError],
    [{ remotePort: [] }, /option remotePort/, RangeError],
    [{ localAddress: 'localhost' }, /option localAddress must be an IP address or CIDR/, RangeError],
    [{ remoteAddress: 5 as never }, /option remoteAddress must be an IP address/, TypeError],
    [{ pids: [0] }, /option pids/, RangeError],
    [{ pids: 5 as never }, /option pids/, TypeError],
    [{ commands: [''] }, /option commands/, RangeError],
    [{ owners: 'yes' as never }, /option owners/, TypeError],
    [{ netnsPid: 1.5 }, /option netnsPid/, RangeError],
    [{ netnsPid: '1' as never }, /option netnsPid/, TypeError],
    [{ procRoot: '' }, /option procRoot/, RangeError],
    [{ signal: {} as never }, /option signal/, TypeError],
  ];
  for (const [options, message, type] of cases) {
    it(`rejects ${JSON.stringify(options)}`, async () => {
      const err = await listSockets({ procRoot, ...options }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('rejects a non-object', async () => {
    await expect(listSockets('tcp' as never)).rejects.toThrow(/option options must be an object/);
  });
});
