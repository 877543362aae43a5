// The ping comparisons, shared by bench/ping.mjs (full runs) and bench/quick.js (CI-sized):
// each runs `node bin/netdiag.js ping ...` and the tool users compare it with as whole
// processes, alternating, on loopback only, and returns medians.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { alternate, cli, expect, measure, medianOf, root } from './measure.mjs';

const node = process.execPath;

/** Answered targets in fping-style summaries (netdiag prints them on stdout, fping on stderr). */
function answered(r) {
  return ((r.stdout + r.stderr).match(/xmt\/rcv\/%loss = 1\/1\/0%/g) ?? []).length;
}

/**
 * One probe to 127.0.0.1: `netdiag ping -c 1` vs iputils `ping -c 1`, and `node -e 0` (Node's
 * own start-up, the floor under every netdiag run). Seconds, medians.
 */
export function singlePing(runs) {
  const got = alternate(runs, {
    netdiag: () => {
      const r = measure(node, [cli, 'ping', '-c', '1', '127.0.0.1']);
      expect('netdiag ping -c 1 127.0.0.1', r, r.status === 0 && / 0% packet loss/.test(r.stdout));
      return r;
    },
    ping: () => {
      const r = measure('ping', ['-c', '1', '127.0.0.1']);
      expect('ping -c 1 127.0.0.1', r, r.status === 0);
      return r;
    },
    node: () => measure(node, ['-e', '0']),
  });
  return { netdiag: medianOf(got.netdiag, 'wall'), ping: medianOf(got.ping, 'wall'), node: medianOf(got.node, 'wall') };
}

/**
 * The target list of a scale point: `count` addresses from 127.1.0.0 (all loopback) as a
 * FROM TO range, or the whole 127.1.0.0/16 block when count is 'cidr16' (65,534 addresses:
 * fping drops the network and broadcast address of a block, and netdiag does the same; fping
 * 5.1 refuses 65,536 targets in one run, it has 65,535 sequence numbers).
 */
export function rangeArgs(count) {
  if (count === 'cidr16') return { count: 65_534, args: ['127.1.0.0/16'] };
  if (!Number.isInteger(count) || count < 1 || count > 65_535) throw new RangeError(`target count must be 1–65535, got ${count}`);
  const last = count - 1;
  return { count, args: ['127.1.0.0', `127.1.${last >> 8}.${last & 255}`] };
}

/**
 * `count` loopback targets x 1 probe, no pacing: `netdiag ping -q -c 1 -g ...` vs
 * `fping -q -c1 -i 0 -g ...`, whole process. Answered counts are reported, not required: at
 * scale a tool may lose replies, and that is part of the result.
 */
export function manyTargets(count, runs, { cpu = false } = {}) {
  const { count: n, args } = rangeArgs(count);
  const got = alternate(runs, {
    netdiag: () => {
      const r = measure(node, [cli, 'ping', '-q', '-c', '1', '-g', ...args], { cpu });
      expect(`netdiag ping -q -c 1 -g ${args.join(' ')}`, r, r.status === 0 || r.status === 1);
      return { ...r, answered: answered(r) };
    },
    fping: () => {
      const r = measure('fping', ['-q', '-c1', '-i', '0', '-g', ...args], { cpu });
      expect(`fping -q -c1 -i 0 -g ${args.join(' ')}`, r, r.status === 0 || r.status === 1);
      return { ...r, answered: answered(r) };
    },
  });
  const side = (rs) => ({ wall: medianOf(rs, 'wall'), cpu: cpu ? medianOf(rs, 'cpu') : null, answered: Math.min(...rs.map((r) => r.answered)) });
  return { count: n, spec: args.join(' '), netdiag: side(got.netdiag), fping: side(got.fping) };
}

/** In-process pingMany over the same targets (seconds): what the engine costs without start-up. */
export function inProcessMany(count) {
  const { args } = rangeArgs(count);
  const script = `
    import { pingMany } from ${JSON.stringify(join(root, 'dist/ping/index.js'))};
    import { expandCidr, expandRange } from ${JSON.stringify(join(root, 'dist/cli/ping/address-range.js'))};
    const args = ${JSON.stringify(args)};
    const targets = args.length === 1 ? expandCidr(args[0]) : expandRange(args[0], args[1]);
    const t0 = performance.now();
    const doc = await pingMany(targets, { probes: false });
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ ms, answered: doc.targets.filter((t) => t.received === 1).length }));`;
  const r = spawnSync(node, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  try {
    const { ms, answered: a } = JSON.parse(r.stdout);
    return { wall: ms / 1000, answered: a };
  } catch {
    throw new Error(`in-process pingMany failed (exit ${r.status}): ${r.stderr.slice(-400)}`);
  }
}

/** Probes/s from the tool's own "time Xms" (first to last probe) and from the whole process. */
function floodRate(r, count) {
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(r.stdout);
  return { own: m ? Number(m[1]) / (Math.max(1, Number(m[3])) / 1000) : NaN, whole: count / r.wall, received: m ? Number(m[2]) : 0 };
}

/** A flood of 127.0.0.1: `netdiag ping -q -f -c N` vs `ping -q -f -c N`, probes per second. */
export function flood(count, runs, { cpu = false } = {}) {
  const side = (label, cmd, args) => () => {
    const r = measure(cmd, args, { cpu });
    const rate = floodRate(r, count);
    expect(label, r, r.status === 0 && rate.received === count);
    return { ...r, ...rate };
  };
  const got = alternate(runs, {
    netdiag: side('netdiag ping -f', node, [cli, 'ping', '-q', '-f', '-c', String(count), '127.0.0.1']),
    ping: side('ping -f', 'ping', ['-q', '-f', '-c', String(count), '127.0.0.1']),
  });
  const summary = (rs) => ({ own: medianOf(rs, 'own'), whole: medianOf(rs, 'whole'), cpu: cpu ? medianOf(rs, 'cpu') : null });
  return { count, netdiag: summary(got.netdiag), ping: summary(got.ping) };
}

/** Probes/s of a bare loop: one echo out and its reply read per native call, no engine. */
export function bareLoopRate(count) {
  const script = `
    import { IcmpSocket } from ${JSON.stringify(join(root, 'dist/socket/icmp-socket.js'))};
    import { SendBatch } from ${JSON.stringify(join(root, 'dist/socket/send-batch.js'))};
    import { EchoTemplate } from ${JSON.stringify(join(root, 'dist/ping/echo-template.js'))};
    import { PayloadLayout } from ${JSON.stringify(join(root, 'dist/ping/payload.js'))};
    const s = new IcmpSocket({ family: 4, mode: 'raw', receiveBuffer: 4 << 20 });
    const echo = new EchoTemplate(4, s.identifier, new PayloadLayout(56, null));
    const b = new SendBatch(1, 64);
    const dest = Buffer.from([127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let got = 0;
    const take = () => void got++;
    const t0 = performance.now();
    for (let i = 1; i <= ${count}; i++) {
      b.clear();
      b.push(echo.write(b.data, 0, i), 4, dest, 0);
      s.sendAndReceive(b);
      s.read(false, take);
    }
    const ms = performance.now() - t0;
    s.close();
    process.stdout.write(JSON.stringify({ rate: ${count} / (ms / 1000), got }));`;
  const r = spawnSync(node, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  try {
    return JSON.parse(r.stdout).rate;
  } catch {
    return NaN;
  }
}
