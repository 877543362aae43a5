// The seqpacket system-call layer of the addon (native/stream_io.cc via src/native.ts) under
// hostile arguments and malformed control data, on a local AF_UNIX SOCK_SEQPACKET socketpair
// (no network). The input is a program: each step picks a call and its arguments, including
// descriptors pointing outside the data, fd counts past SCM_MAX_FD, closed or invalid fds as
// SCM_RIGHTS, receive offsets past the buffer and ranges past the fd arrays. Every call must
// return a sane count or throw a JS error (TypeError/RangeError, or a system error with a
// code), and what it reports must lie inside the buffers given. Run it under the ASan/UBSan
// build (scripts/fuzz-native.sh) so a memory error in the addon aborts with a report.
import { native, RECV_MESSAGE_STRIDE, RECV_MESSAGE_TRUNCATED } from '../../../src/native.js';
import { check, InvariantError } from '../invariants.js';

const n = native();
const [a, b] = n.socketpair(n.constants.SOCK_SEQPACKET);
const meta = new Int32Array(RECV_MESSAGE_STRIDE * 64);
const fdsOut = new Int32Array(2048);
n.setReceiveArea(meta, fdsOut);
const recvBuf = Buffer.alloc(1 << 16);

/** Reads the fuzzer's bytes as small integers; 0 once they run out. */
class Program {
  private at = 0;
  constructor(private readonly data: Buffer) {}
  get more(): boolean {
    return this.at < this.data.length;
  }
  byte(): number {
    return this.at < this.data.length ? this.data[this.at++]! : 0;
  }
  /** mostly small, sometimes hostile */
  int(): number {
    const k = this.byte();
    switch (k & 7) {
      case 0: return -1 - (this.byte() & 3);
      case 1: return 2 ** 31 - 1 - this.byte();
      case 2: return (this.byte() << 8) | this.byte();
      default: return this.byte() & 63;
    }
  }
}

function expectJsError(what: string, e: unknown): void {
  if (e instanceof InvariantError) throw e;
  check(e instanceof Error, `${what} threw a non-Error: ${String(e)}`);
  const code = (e as { code?: unknown }).code;
  check(e instanceof TypeError || e instanceof RangeError || typeof code === 'string', `${what} threw an untyped error: ${e.name}: ${e.message}`);
}

/** Receives everything queued on `fd`, checking each entry and closing the fds that came. */
function drain(fd: number, offset = 0, max = 4096, count = 64): void {
  for (let round = 0; round < 64; round++) {
    let got: number;
    try {
      got = n.recvMessages(fd, recvBuf, offset, max, count);
    } catch (e) {
      expectJsError('recvMessages', e);
      return;
    }
    check(Number.isInteger(got) && got >= 0 && got <= Math.max(count, 0) && got <= meta.length / RECV_MESSAGE_STRIDE, `recvMessages returned ${got} for at most ${count}`);
    if (got === 0) return;
    for (let k = 0; k < got; k++) {
      const m = k * RECV_MESSAGE_STRIDE;
      const [off, len, flags, fdsAt, fdCount] = [meta[m]!, meta[m + 1]!, meta[m + 2]!, meta[m + 3]!, meta[m + 4]!];
      if (flags === 0 || flags === RECV_MESSAGE_TRUNCATED) {
        check(off >= offset && off <= recvBuf.length, `received message at ${off}, outside [${offset}, ${recvBuf.length}]`);
        if (flags === 0) check(off + len <= recvBuf.length && len <= max, `received message [${off}, +${len}) past the buffer or the maximum ${max}`);
      }
      check(fdCount >= 0 && fdCount <= n.SCM_MAX_FD && (fdCount === 0 || (fdsAt >= 0 && fdsAt + fdCount <= fdsOut.length)), `received fds [${fdsAt}, +${fdCount}) outside the fd area`);
      if (fdCount > 0) n.closeFds(fdsOut, fdsAt, fdCount);
    }
  }
}

export function fuzz(data: Buffer): void {
  const p = new Program(data);
  for (let step = 0; step < 24 && p.more; step++) {
    const op = p.byte() % 5;
    try {
      if (op === 0 || op === 1) {
        // sendMessages with descriptors of the program's choosing
        const messages = p.byte() % 6;
        const payload = Buffer.alloc(p.int() & 0x1fff, 0x5a);
        const desc = new Int32Array(Math.max(4 * messages, p.byte() % 8));
        const fds = new Int32Array(p.byte() % 300);
        for (let i = 0; i < fds.length; i++) fds[i] = [a, b, 0, -1, 999_999, 2 ** 31 - 1][p.byte() % 6]!;
        for (let i = 0; i < desc.length; i++) desc[i] = op === 0 ? p.int() : i % 4 === 3 ? p.byte() % 4 : p.int() & 0xff;
        const start = p.byte() % 4 === 0 ? p.int() : 0;
        const count = p.byte() % 4 === 0 ? p.int() : messages;
        const sent = n.sendMessages(a, payload, desc, fds, start, count);
        check(Number.isInteger(sent) && sent >= 0 && sent <= Math.max(count, 0), `sendMessages returned ${sent} for ${count}`);
      } else if (op === 2) {
        // receive with hostile offset/maximum/count
        drain(b, p.int(), p.int(), p.int());
      } else if (op === 3) {
        // close and release ranges that run past their arrays (entries are -1: skipped)
        const arr = new Int32Array(p.byte() % 40).fill(-1);
        if (p.byte() & 1) n.closeFds(arr, p.int(), p.int());
        else n.releaseFds(arr, p.int(), p.int());
      } else {
        // duplicates of the pair (and invalid fds): all or nothing, then closed
        const want = Array.from({ length: p.byte() % 6 }, () => [a, b, -1, 999_999][p.byte() % 4]!);
        const dups = n.duplicateFds(want);
        check(dups.length === want.length, `duplicateFds gave ${dups.length} for ${want.length}`);
        n.closeFds(Int32Array.from(dups), 0, dups.length);
      }
    } catch (e) {
      expectJsError(`step ${step} (op ${op})`, e);
    }
  }
  // leave nothing queued (fds in flight) for the next input
  drain(b);
}
