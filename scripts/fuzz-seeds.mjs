#!/usr/bin/env node
// Writes the seed corpora test/fuzz/corpus/<target>/ from the test fixtures (captured packets,
// /proc files, netlink dumps) and a few hand-written command lines. Run it after a fixture
// changes; the output is committed. Files are named by the SHA-1 of their content.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures');
const corpus = join(root, 'test', 'fuzz', 'corpus');
const MAX_SEED = 4096;

const seeds = new Map();
function add(target, bytes) {
  const b = Buffer.from(bytes).subarray(0, MAX_SEED);
  if (!seeds.has(target)) seeds.set(target, new Map());
  seeds.get(target).set(createHash('sha1').update(b).digest('hex'), b);
}

// captured packets: whole frames (IP header first) and the part after the IP header
const captures = JSON.parse(readFileSync(join(fixtures, 'packets', 'loopback-captures.json'), 'utf8')).captures;
for (const { frames } of Object.values(captures)) {
  for (const hex of frames) {
    const frame = Buffer.from(hex, 'hex');
    const ipLength = frame[0] >> 4 === 4 ? (frame[0] & 15) * 4 : 40;
    const upper = frame.subarray(ipLength);
    for (const t of ['packet-ip', 'packet-icmp', 'packet-transport', 'traceroute-reply']) add(t, frame);
    for (const t of ['packet-icmp', 'packet-transport', 'traceroute-reply']) add(t, upper);
    // the quoted datagram of an ICMP error
    if (upper.length > 8) add('packet-ip', upper.subarray(8));
  }
}

// /proc/net files
for (const dir of [join(fixtures, 'proc', 'net'), join(fixtures, 'proc', '4242', 'net')]) {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('sockstat')) add('proc-net', readFileSync(join(dir, f)));
    else if (f === 'sockstat') add('sockstat', Buffer.concat([readFileSync(join(dir, f)), Buffer.from([0]), readFileSync(join(dir, 'sockstat6'))]));
  }
}

// netlink sock_diag dumps (src/sockets/netlink)
const netlink = join(fixtures, 'netlink');
if (existsSync(netlink)) for (const f of readdirSync(netlink)) if (f.endsWith('.bin')) add('netlink-records', readFileSync(join(netlink, f)));

// ss filters
for (const f of [
  'state established ( sport = :ssh or dport = :http )',
  '( sport = :ssh and dport >= :1024 )',
  'state listening sport > :1023',
  'exclude listening',
  'dst 127.0.0.1:22',
  'src [::1]:8080',
  'not dport = :https',
  'sport eq :22 and dport ne :0',
  'state connected dst 127.0.0.0/8',
]) add('ss-filter', f);

// netdiag serve configs (YAML and JSON)
for (const text of [
  '---\ntargets:\n- hosts:\n  - localhost\n  interval: 1s\n  network: ip\n  protocol: icmp\n  size: 56\n  source: 127.0.1.1\n  tos: 0x00\n',
  'targets:\n  - hosts: [127.0.0.1, db.internal, 10.0.0.0/30]\n    interval: 500ms\n    labels: {group: web}\n  - host: ::1\n    network: ip6\n    protocol: udp\nprobe:\n  allow: [127.0.0.0/8, "::1"]\n  modules:\n    icmp5: {count: 5, timeout: 2.5s, ttl: 9}\n',
  'targets:\n  - hosts: [127.0.0.1]\n    method: tcp\n    port: 443\n    tcp_method: connect\n    resolve_interval: 5m\n',
  '{"targets": [{"hosts": ["127.0.0.2", "::ffff:127.0.0.3"], "interval": "1s", "labels": {"dc": "x"}}]}',
]) add('serve-config', text);

// seqpacket: a reader queue (max size, pause pattern, then 3-byte entries) and a native program
for (const hex of [
  '10000a00100a01000c0040ff0500',
  '40550aff0010000010ff20fe3001',
  '01000a00200c0008',
]) add('seqpacket-reader', Buffer.from(hex, 'hex'));
for (const hex of ['0003020000000102', '01040310ff000004020406', '030a0100020203040501']) add('seqpacket-native', Buffer.from(hex, 'hex'));

// command lines (NUL between arguments)
for (const argv of [
  ['-c', '3', '-i', '0.2', '127.0.0.1'],
  ['-6', '-c', '1', '-W', '1', '::1'],
  ['--tcp=443', '--tcp-method', 'connect', '127.0.0.1'],
  ['-g', '127.0.0.0/30'],
  ['-Q', '0x10', '-t', '64', '-s', '56', '-p', 'ff00', 'localhost'],
  ['-n', '-q', '1', '-w', '1', '-m', '5', '127.0.0.1'],
  ['-I', '-f', '2', '-N', '8', '127.0.0.1', '60'],
  ['-T', '-p', '80', '--mtu', '::1'],
  ['/tmp/netdiag.sock', '--count', '2'],
  ['@abstract', 'hello', 'world', '--fd', '0'],
  ['--help'],
]) add('cli-args', argv.join('\0'));

rmSync(corpus, { recursive: true, force: true });
let files = 0, bytes = 0;
for (const [target, entries] of seeds) {
  const dir = join(corpus, target);
  mkdirSync(dir, { recursive: true });
  for (const [name, b] of entries) {
    writeFileSync(join(dir, name), b);
    files++;
    bytes += b.length;
  }
}
const empty = readdirSync(join(root, 'test', 'fuzz', 'targets')).map((f) => f.replace(/\.ts$/, '')).filter((t) => !seeds.has(t));
console.log(`wrote ${files} seeds (${bytes} bytes) for ${seeds.size} targets${empty.length ? `; no seeds for ${empty.join(', ')}` : ''}`);

