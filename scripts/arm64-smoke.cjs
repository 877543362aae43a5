'use strict';
// Smoke test of the linux-arm64 prebuild, run by an arm64 node under qemu-user (see
// scripts/test-arm64.sh). It requires the .node file directly, so it checks exactly the binary
// that ships, and exercises the parts whose ABI differs between architectures: struct layouts
// behind ioArea/sendBatchIn/recvBatchIn (sockaddr, cmsg, timespec), uv_poll on the env loop, SCM_RIGHTS
// and SCM_CREDENTIALS through sendMessages/recvMessages, errno mapping. Then the test addon
// beside it (netdiag_test.node, the TUN addon of netdiag/testing): it loads, and moves whole
// packets through its readPackets/writePacket (on a SEQPACKET pair: no TUN device is made here).
//
//   qemu-aarch64-static -L SYSROOT SYSROOT/.../node scripts/arm64-smoke.cjs [path/to/netdiag.node]
//
// Prints one PASS/FAIL line per check and finally `arm64: N passed, N failed`; exit 1 on failure.
// Needs CAP_NET_RAW for the raw ICMP socket (CI runs as root); pings only 127.0.0.1.
const path = require('node:path');

const addonPath = path.resolve(process.argv[2] || path.join(__dirname, '..', 'prebuilds', 'linux-arm64', 'netdiag.node'));
const TIMEOUT_MS = Number(process.env.ARM64_SMOKE_TIMEOUT_MS || 10000); // emulation is slow
let passed = 0;
let failed = 0;

function report(ok, name, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
}

async function check(name, fn) {
  try {
    const detail = await fn();
    report(true, name, detail);
    return true;
  } catch (e) {
    report(false, name, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
    return false;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// RFC 1071 internet checksum
function checksum(buf) {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length & 1) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// Resolves with the events once fd is readable; rejects after TIMEOUT_MS.
function waitReadable(b, fd) {
  return new Promise((resolve, reject) => {
    const poller = new b.Poller(fd, (status, events) => {
      clearTimeout(timer);
      poller.close();
      if (status !== 0) reject(new Error(`Poller status ${status}`));
      else resolve(events);
    });
    const timer = setTimeout(() => {
      poller.close();
      reject(new Error(`fd ${fd} not readable within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    poller.start(1 /* POLL_READABLE */);
  });
}

async function pingLoopback(b) {
  const C = b.constants;
  const fd = b.socket(C.AF_INET, C.SOCK_RAW, C.IPPROTO_ICMP);
  try {
    // qemu-user (7.2) does not translate SO_TIMESTAMPNS (ENOPROTOOPT); the kernel receive
    // time is then not checked here (the native x64 suite checks it)
    let timestamps = true;
    try {
      b.setsockoptInt(fd, C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1);
    } catch (e) {
      if (e.code !== 'ENOPROTOOPT') throw e;
      timestamps = false;
    }
    const id = (process.pid ^ 0x5a5a) & 0xffff;
    const seq = 1;
    const payload = Buffer.from('netdiag arm64 smoke');
    const pkt = Buffer.alloc(8 + payload.length);
    pkt[0] = 8; // echo request
    pkt[1] = 0;
    pkt.writeUInt16BE(id, 4);
    pkt.writeUInt16BE(seq, 6);
    payload.copy(pkt, 8);
    pkt.writeUInt16BE(checksum(pkt), 2);

    // sendBatchIn over ioArea(data, desc, addrs, out): desc stride 8 [offset, length, family,
    // port, ttl, tos, scopeId, 0], addrs 16 bytes per message, out stride 3 [sec, nsec, errno]
    const desc = Int32Array.from([0, pkt.length, 4, 0, 64, -1, 0, 0]);
    const addrs = Buffer.alloc(16);
    Buffer.from([127, 0, 0, 1]).copy(addrs, 0);
    const out = new Float64Array(3);
    const sent = b.sendBatchIn(fd, b.ioArea(pkt, desc, addrs, out), 1);
    assert(sent === 1, `sendBatchIn returned ${sent}`);
    assert(out[2] === 0, `sendmsg errno ${out[2]}`);
    assert(out[0] > 1e9 && out[1] >= 0 && out[1] < 1e9, `send time ${out[0]}.${out[1]} is not a CLOCK_REALTIME timespec`);

    // recvBatchIn into ioArea(buf, meta, addrs, counts): meta stride 16 (length 0, flags 1,
    // tsSec 2, tsNsec 3, ttl 4, tos 5, family 6), addrs stride 32 (16 source + 16 offender),
    // counts 2 int32 (sendRecvBatchIn's). The raw socket also sees its own request on lo.
    const slot = 2048, max = 8;
    const buf = Buffer.alloc(slot * max);
    const meta = new Float64Array(16 * max);
    const raddrs = Buffer.alloc(32 * max);
    const recvArea = b.ioArea(buf, meta, raddrs, new Int32Array(2));
    const deadline = Date.now() + TIMEOUT_MS;
    let seen = 0;
    while (Date.now() < deadline) {
      await waitReadable(b, fd);
      const n = b.recvBatchIn(fd, recvArea, slot, max, false);
      for (let i = 0; i < n; i++) {
        seen++;
        const m = meta.subarray(i * 16, i * 16 + 16);
        const p = buf.subarray(i * slot, i * slot + Math.min(m[0], slot));
        const ihl = (p[0] & 0x0f) * 4;
        assert(p[0] >> 4 === 4 && ihl >= 20, `message ${i} does not start with an IPv4 header`);
        const icmp = p.subarray(ihl);
        if (icmp[0] !== 0) continue; // our own echo request, or other ICMP
        if (icmp.readUInt16BE(4) !== id || icmp.readUInt16BE(6) !== seq) continue; // someone else's
        assert(m[6] === 4, `source family ${m[6]}`);
        const src = [...raddrs.subarray(i * 32, i * 32 + 4)].join('.');
        assert(src === '127.0.0.1', `source ${src}`);
        assert(icmp.subarray(8).equals(payload), 'echo reply payload differs');
        assert(checksum(icmp) === 0, 'echo reply checksum does not verify');
        let rtt = 'SO_TIMESTAMPNS unsupported by qemu-user: kernel rtt not checked';
        if (timestamps) {
          assert(m[2] > 0, 'no SO_TIMESTAMPNS kernel receive time');
          const rttMs = (m[2] - out[0]) * 1e3 + (m[3] - out[1]) / 1e6;
          assert(rttMs >= -1 && rttMs < TIMEOUT_MS, `rtt ${rttMs} ms from kernel/send timestamps is implausible`);
          rtt = `rtt ${rttMs.toFixed(3)} ms`;
        }
        return `echo reply id ${id} seq ${seq} from ${src}, ${m[0]} bytes, ttl ${p[8]}, ${rtt} (${seen} packets read)`;
      }
    }
    throw new Error(`no echo reply with id ${id} within ${TIMEOUT_MS} ms (${seen} packets read)`);
  } finally {
    b.close(fd);
  }
}

async function seqpacketRoundTrip(b) {
  const C = b.constants;
  assert(typeof b.sendMessages === 'function' && typeof b.recvMessages === 'function',
    'the addon has no sendMessages/recvMessages (native/stream_io.cc)');
  const [a, z] = b.socketpair(C.SOCK_SEQPACKET);
  const [x, y] = b.socketpair(C.SOCK_SEQPACKET); // x travels over a->z as SCM_RIGHTS
  const toClose = [a, z, x, y];
  try {
    b.setsockoptInt(z, C.SOL_SOCKET, C.SO_PASSCRED, 1); // tells an empty message from the end
    const msgs = [Buffer.from('hello from arm64'), Buffer.alloc(0), Buffer.alloc(3000, 0xa5)];
    const data = Buffer.concat(msgs);
    // sendMessages(fd, data, desc stride 4 [offset, length, fdsOffset, fdsCount], fds, start, count)
    const desc = new Int32Array(4 * msgs.length);
    let off = 0;
    msgs.forEach((m, i) => {
      desc.set([off, m.length, 0, i === 0 ? 1 : 0], i * 4);
      off += m.length;
    });
    const sent = b.sendMessages(a, data, desc, Int32Array.from([x]), 0, msgs.length);
    assert(sent === msgs.length, `sendMessages sent ${sent} of ${msgs.length}`);
    b.close(a); // after the messages, the receiver must see the end of the stream
    toClose.splice(toClose.indexOf(a), 1);

    await waitReadable(b, z);
    // setReceiveArea(meta stride 5 [offset, length, flags, fdsOffset, fdsCount], fdsOut >= SCM_MAX_FD)
    // once per thread, then recvMessages(fd, buf, offset, maxMessageSize, maxMessages)
    const maxSize = 4096, max = 8;
    const buf = Buffer.alloc(maxSize * max);
    const meta = new Int32Array(5 * max);
    // recvMessages stops before a message unless fdsOut still has SCM_MAX_FD free entries
    const fdsOut = new Int32Array((b.SCM_MAX_FD || 253) * (max + 1)).fill(-1);
    b.setReceiveArea(meta, fdsOut);
    const n = b.recvMessages(z, buf, 0, maxSize, max);
    assert(n === msgs.length + 1, `recvMessages returned ${n} entries, expected ${msgs.length} messages + end of stream`);
    msgs.forEach((m, i) => {
      const [o, len, flags, , fcnt] = meta.subarray(i * 5, i * 5 + 5);
      assert(len === m.length && flags === 0, `message ${i}: length ${len} flags ${flags}, expected ${m.length} 0`);
      assert(buf.subarray(o, o + len).equals(m), `message ${i}: content differs`);
      assert(fcnt === (i === 0 ? 1 : 0), `message ${i}: ${fcnt} fds`);
    });
    const end = meta.subarray(msgs.length * 5, msgs.length * 5 + 5);
    assert(end[2] === 4, `last entry flags ${end[2]}, expected 4 (end of stream)`);
    // the passed fd is a working socket: send through it, read on the other end of its pair
    const got = fdsOut[meta[3]];
    assert(got >= 0 && got !== x, `received fd ${got}`);
    toClose.push(got);
    const ping = Buffer.from('through the passed fd');
    assert(b.sendMessages(got, ping, Int32Array.from([0, ping.length, 0, 0]), new Int32Array(0), 0, 1) === 1, 'send on the received fd');
    await waitReadable(b, y);
    const n2 = b.recvMessages(y, buf, 0, maxSize, 1);
    assert(n2 === 1 && buf.subarray(0, meta[1]).equals(ping), 'message through the passed fd did not arrive');
    let creds = '';
    if (typeof b.peerCredentials === 'function') {
      const c = b.peerCredentials(z);
      assert(c.pid === process.pid && c.uid === process.getuid(), `SO_PEERCRED ${JSON.stringify(c)}`);
      creds = `, SO_PEERCRED pid ${c.pid} uid ${c.uid}`;
    }
    return `3 messages (16, 0, 3000 bytes) + SCM_RIGHTS fd + end of stream${creds}`;
  } finally {
    for (const fd of toClose) {
      try { b.close(fd); } catch { /* already closed */ }
    }
  }
}

// The test addon's packet I/O on any fd that keeps message boundaries: a SEQPACKET pair from
// the main addon stands in for a TUN device (opening one would add an interface to this host).
async function testAddonPackets(b, t) {
  for (const f of ['openTun', 'readPackets', 'writePacket']) assert(typeof t[f] === 'function', `no ${f} export`);
  const [a, z] = b.socketpair(b.constants.SOCK_SEQPACKET);
  try {
    const packets = [Buffer.alloc(60, 0x45), Buffer.alloc(1280, 0x60)];
    const out = Buffer.concat(packets);
    assert(t.writePacket(a, out, 0, 60) === true && t.writePacket(a, out, 60, 1280) === true, 'writePacket returned false');
    await waitReadable(b, z);
    const slot = 2048;
    const buf = Buffer.alloc(slot * 4);
    const lengths = new Int32Array(4);
    const n = t.readPackets(z, buf, slot, 4, lengths);
    assert(n === 2, `readPackets returned ${n}, expected 2`);
    packets.forEach((p, i) => {
      assert(lengths[i] === p.length && buf.subarray(i * slot, i * slot + p.length).equals(p), `packet ${i} differs`);
    });
    assert(t.readPackets(z, buf, slot, 4, lengths) === 0, 'readPackets on an empty fd did not return 0');
    let err;
    try { t.writePacket(a, out, 1300, 100); } catch (e) { err = e; }
    assert(err instanceof RangeError, `out-of-buffer writePacket threw ${err}`);
    return 'writePacket x2, readPackets 60 + 1280 bytes, 0 when empty, RangeError on bad bounds';
  } finally {
    b.close(a);
    b.close(z);
  }
}

async function main() {
  console.log(`arm64 smoke: node ${process.version} (${process.arch}), addon ${addonPath}`);
  await check('node runs as arm64', () => {
    assert(process.arch === 'arm64', `process.arch is ${process.arch}`);
    return `process.arch ${process.arch}, ${process.platform}`;
  });
  let b;
  const loaded = await check('load the prebuild', () => {
    b = require(addonPath);
    assert(b.arch === 'arm64', `binding.arch is ${b.arch}`);
    assert(b.constants && b.constants.AF_INET === 2 && b.constants.SOCK_SEQPACKET === 5, 'constants missing or wrong');
    return `binding.arch ${b.arch}, ${Object.keys(b).length} exports`;
  });
  if (loaded) {
    await check('errors carry errno codes', () => {
      let err;
      const fd = b.socket(b.constants.AF_INET, b.constants.SOCK_DGRAM);
      try { b.bind(fd, 4, '192.0.2.1', 0); } catch (e) { err = e; } finally { b.close(fd); }
      assert(err && err.code === 'EADDRNOTAVAIL' && err.syscall === 'bind', `got ${err && err.code} ${err && err.syscall}`);
      return `${err.code} (errno ${err.errno}) from ${err.syscall}`;
    });
    await check('capabilities', () => {
      const c = b.capabilities();
      assert(typeof c.effective === 'string', 'no effective mask');
      return `effective ${c.effective}`;
    });
    await check('raw ICMP ping 127.0.0.1', () => pingLoopback(b));
    await check('SEQPACKET socketpair round trip', () => seqpacketRoundTrip(b));
    const testAddonPath = path.join(path.dirname(addonPath), 'netdiag_test.node');
    let t;
    const testLoaded = await check('load the test addon beside it (netdiag_test.node)', () => {
      t = require(testAddonPath);
      return `${testAddonPath}, ${Object.keys(t).length} exports`;
    });
    if (testLoaded) await check('test addon: packets through readPackets/writePacket', () => testAddonPackets(b, t));
  }
  console.log(`arm64: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.log(`FAIL smoke script crashed: ${e && e.stack}`);
  console.log(`arm64: ${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
