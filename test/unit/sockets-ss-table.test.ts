// The ss-style table: columns and alignment as ss computes them (checked against ss's own
// /proc fallback on the same fixtures), names, -p/-o/-e details, hidden Netid/State
// columns, terminal width, and output written in blocks.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BLOCK_ROWS, formatMsTimer, formatTimer, SsTableWriter, type SsTableOptions } from '../../src/cli/sockets/ss-table.js';
import { scanSockets } from '../../src/sockets/scan.js';
import type { ListSocketsOptions } from '../../src/sockets/types.js';

const procRoot = join(import.meta.dirname, '../fixtures/proc');
const files = { procRoot, passwdFile: join(procRoot, 'etc/passwd'), servicesFile: join(procRoot, 'etc/services') };

async function render(options: ListSocketsOptions, table: Partial<SsTableOptions> = {}): Promise<string[]> {
  const scan = scanSockets({ ...files, ...options });
  const writes: string[] = [];
  const writer = new SsTableWriter(
    { numeric: true, processes: false, extended: false, timers: false, header: true, showNetid: false, showState: true, screenWidth: null, serviceName: (p, port) => scan.serviceName(p, port), ...table },
    scan,
    (b) => writes.push(b.toString()),
  );
  for await (const rows of scan.rows()) writer.add(rows);
  writer.end();
  return writes;
}

const text = async (options: ListSocketsOptions, table: Partial<SsTableOptions> = {}): Promise<string> => (await render(options, table)).join('');

describe('layout', () => {
  it('matches ss -tan on the same /proc (ss stops at the first malformed line; netdiag reads on)', async () => {
    expect(await text({ protocols: ['tcp'] })).toBe(
      [
        'State      Recv-Q     Send-Q          Local Address:Port        Peer Address:Port',
        'LISTEN     0          0                     0.0.0.0:22               0.0.0.0:*',
        'LISTEN     3          0                   127.0.0.1:5432             0.0.0.0:*',
        'ESTAB      5          16                   10.0.0.5:22              10.0.0.9:51000',
        'SYN-SENT   0          1                    10.0.0.5:40000      93.184.216.34:443',
        'SYN-RECV   0          0                    10.0.0.5:22              10.0.0.7:50001',
        'FIN-WAIT-1 0          32                   10.0.0.5:22              10.0.0.9:51001',
        'FIN-WAIT-2 0          0                    10.0.0.5:22              10.0.0.9:51002',
        'TIME-WAIT  0          0                   127.0.0.1:41000          127.0.0.1:5432',
        'UNCONN     0          0                   127.0.0.1:41001            0.0.0.0:*',
        'CLOSE-WAIT 512        0                   127.0.0.1:5432           127.0.0.1:41002',
        'LAST-ACK   0          1                   127.0.0.1:41003          127.0.0.1:5432',
        'CLOSING    0          1                   127.0.0.1:41004          127.0.0.1:5432',
        'UNDEF      0          0                   127.0.0.1:5432           127.0.0.1:41005',
        'ESTAB      4294967295 4294967295    255.255.255.255:65535    255.255.255.255:65535',
        'LISTEN     0          0                   127.0.0.1:631              0.0.0.0:*',
        'LISTEN     0          0                           *:22                     *:*',
        'ESTAB      0          0          [::ffff:127.0.0.1]:5432  [::ffff:127.0.0.1]:50412',
        'ESTAB      0          0                       [::1]:38690              [::1]:5432',
        'ESTAB      0          1460            [2001:db8::1]:443        [2001:db8::2]:60000',
        'LISTEN     0          0                   [fe80::1]:22                     *:*',
        '',
      ].join('\n'),
    );
  });

  it('prints service names unless numeric, processes, timers and uid/inode', async () => {
    expect(await text({ protocols: ['tcp'], families: ['inet'], states: ['LISTEN'], owners: true }, { numeric: false, processes: true, showState: false, extended: true })).toBe(
      [
        'Recv-Q Send-Q Local Address:Port       Peer Address:PortProcess',
        '0      0            0.0.0.0:ssh             0.0.0.0:*    users:(("sshd",pid=100,fd=3))                               ino:1001',
        '3      0          127.0.0.1:postgresql      0.0.0.0:*    users:(("postgres",pid=200,fd=7),("postgres",pid=201,fd=7)) uid:105 ino:1002',
        '0      0          127.0.0.1:ipp             0.0.0.0:*                                                                ino:1014',
        '',
      ].join('\n'),
    );
    expect(await text({ protocols: ['tcp'], states: ['ESTABLISHED'], localPort: [22, 443] }, { timers: true, showState: false })).toBe(
      [
        'Recv-Q Send-Q Local Address:Port  Peer Address:Port',
        '5      16          10.0.0.5:22        10.0.0.9:51000 timer:(keepalive,18min,0)',
        '0      1460   [2001:db8::1]:443  [2001:db8::2]:60000 timer:(on,500ms,3)',
        '',
      ].join('\n'),
    );
  });

  it('prints unix sockets with their path and inode, Netid naming the type', async () => {
    expect(await text({ protocols: ['unix'], states: ['LISTEN', 'UNCONN'] }, { showNetid: true })).toBe(
      [
        'Netid State  Recv-Q Send-Q               Local Address:Port       Peer Address:Port',
        'u_str LISTEN 0      0                   /run/sshd.sock 5001                  * *',
        'u_str LISTEN 0      0               @/tmp/.X11-unix/X0 5003                  * *',
        'u_dgr UNCONN 0      0               @netdiag@with@nuls 5004                  * *',
        'u_str LISTEN 0      0      /tmp/my socket dir/app sock 5005                  * *',
        'u_dgr UNCONN 0      0              /run/systemd/notify 5006                  * *',
        'u_seq LISTEN 0      0                    /run/seq.sock 5008                  * *',
        'u_dgr UNCONN 0      0                                * 4294967295            * *',
        '',
      ].join('\n'),
    );
  });

  it('leaves the header out with -H and still prints it for an empty listing', async () => {
    expect(await text({ protocols: ['raw'] }, { header: false })).toBe('UNCONN 0      0      0.0.0.0:1  0.0.0.0:*\nUNCONN 0      0            *:58       *:*\n');
    expect(await text({ protocols: ['udplite'] })).toBe('State Recv-Q Send-Q Local Address:Port Peer Address:Port\n');
  });

  it('spreads the columns over a terminal as ss does', async () => {
    const compact = (await text({ protocols: ['raw'] })).split('\n');
    const lines = (await text({ protocols: ['raw'] }, { screenWidth: 80 })).split('\n');
    // the spare space goes to the columns (the padding after the last one is not printed)
    expect(lines[0]!.length).toBeGreaterThan(compact[0]!.length + 10);
    expect(lines[0]!.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(/^UNCONN\s+0\s+0\s+0\.0\.0\.0:1\s+0\.0\.0\.0:\*$/);
  });
});

describe('streaming', () => {
  it('writes a big listing in blocks, never as one string', async () => {
    const scan = scanSockets({ ...files, protocols: ['tcp'] });
    const writes: string[] = [];
    const writer = new SsTableWriter({ numeric: true, processes: false, extended: false, timers: false, header: true, showNetid: false, showState: true, screenWidth: null }, scan, (b) => writes.push(b.toString()));
    const batches = [];
    for await (const rows of scan.rows()) batches.push(rows);
    const rounds = Math.ceil((3 * BLOCK_ROWS) / batches.reduce((n, b) => n + b.length, 0));
    for (let i = 0; i < rounds; i++) for (const b of batches) writer.add(b);
    writer.end();
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes.join('').split('\n').length - 2).toBe(rounds * batches.reduce((n, b) => n + b.length, 0));
  });
});

describe('ss -o details', () => {
  it('prints times like print_ms_timer', () => {
    expect([0, 5, 999, 1000, 1500, 9999, 10_500, 59_000, 61_234, 600_000, 7_200_000, -1000].map(formatMsTimer)).toEqual([
      '',
      '005ms',
      '999ms',
      '1sec',
      '1.500sec',
      '9.999sec',
      '10sec',
      '59sec',
      '1min1sec',
      '10min',
      '120min',
      '-1sec',
    ]);
  });

  it('counts retransmits for the retransmit timer and probes for the others', () => {
    expect(formatTimer({ kind: 'on', expires: 200, retransmits: 3, probes: 1 })).toBe(' timer:(on,200ms,3)');
    expect(formatTimer({ kind: 'keepalive', expires: 7_199_000, retransmits: 3, probes: 1 })).toBe(' timer:(keepalive,119min,1)');
  });
});
