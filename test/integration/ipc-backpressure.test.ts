// `netdiag ipc listen` under peers and readers that do not keep up (issue 10, item 5): a peer
// that floods large messages and never reads its echoes, and a stdout nobody reads, must not
// grow the listener; it stops reading (the peer's send() blocks) and serves on afterwards.
// --json streams its messages and still ends as one valid document.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSeqpacket, type SeqpacketSocket } from '../../src/seqpacket/index.js';
import { cliPath } from '../helpers/built-package.js';

const MESSAGE = 60 * 1024;
/** What the peer tries to push: far more than the bound, so a listener that buffers fails. */
const OFFER = 320 * 1024 * 1024;
const RSS_BOUND = 200 * 1024 * 1024;
/** The peer is stalled when its send queue has not drained for this long. */
const STALL_MS = 1500;

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

let n = 0;
const address = (): string => `@netdiag-backpressure-${process.pid}-${++n}`;

function bound(name: string): boolean {
  return readFileSync('/proc/net/unix', 'utf8').split('\n').some((l) => l.endsWith(` ${name}`));
}

async function startListener(name: string, args: string[], readStdout: boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliPath(), 'ipc', 'listen', name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (readStdout) child.stdout!.resume();
  while (!bound(name)) {
    if (child.exitCode !== null) throw new Error(`the listener exited: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return child;
}

/** kB from /proc/PID/status: VmHWM is the peak resident size, VmRSS the current one. */
function memory(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s*(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function connected(name: string): Promise<SeqpacketSocket> {
  const s = connectSeqpacket(name);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/**
 * Sends MESSAGE-byte messages, honouring its own 'drain', until OFFER bytes went out or the
 * listener stopped taking them (no 'drain' within STALL_MS). Returns the bytes offered.
 */
async function flood(peer: SeqpacketSocket): Promise<number> {
  const message = Buffer.alloc(MESSAGE, 0x61);
  let offered = 0;
  while (offered < OFFER) {
    offered += MESSAGE;
    if (peer.send(message)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        peer.off('drain', onDrain);
        resolve(false);
      }, STALL_MS);
      const onDrain = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      peer.once('drain', onDrain);
    });
    if (!drained) break;
  }
  return offered;
}

function closed(s: SeqpacketSocket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once('close', () => resolve());
  });
}

async function echoOf(name: string, text: string): Promise<string> {
  const s = await connected(name);
  const reply = new Promise<string>((resolve) => s.once('message', (d) => resolve(d.toString())));
  s.send(text);
  const r = await reply;
  s.destroy();
  return r;
}

describe('ipc listen backpressure', () => {
  it('--echo to a peer that never reads: the listener stops reading, stays small, and serves on', async () => {
    const name = address();
    const child = await startListener(name, ['--echo'], true);
    const peer = await connected(name);
    peer.on('error', () => {}); // it never reads: its leaving may reset the connection
    const offered = await flood(peer);
    const peak = memory(child.pid!, 'VmHWM');
    // bounded: the listener read only what its echo queue and the kernel buffers hold
    expect(peak).toBeLessThan(RSS_BOUND);
    expect(offered).toBeLessThan(OFFER);
    peer.destroy();
    await closed(peer);
    // the listener noticed nothing wrong: it answers the next client, and is still small
    expect(await echoOf(name, 'still there?')).toBe('still there?');
    expect(memory(child.pid!, 'VmRSS')).toBeLessThan(RSS_BOUND);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 60_000);

  it('--json with a stdout nobody reads: reading stops, the document streams, and ends valid', async () => {
    const name = address();
    const child = await startListener(name, ['--json'], false);
    const peer = await connected(name);
    peer.on('error', () => {});
    const offered = await flood(peer);
    expect(memory(child.pid!, 'VmHWM')).toBeLessThan(RSS_BOUND);
    expect(offered).toBeLessThan(OFFER);
    peer.destroy();
    await closed(peer);
    // now read stdout: what was held back goes out, then the end of the document on SIGTERM
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const stdoutClosed = new Promise((r) => child.stdout!.once('close', r));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    const code = await exited;
    await stdoutClosed;
    expect(code).toBe(0);
    const doc = JSON.parse(out) as { schema: string; messages: { size: number }[]; connections: { messages: number }[] };
    expect(doc.schema).toBe('netdiag.ipc/1');
    expect(doc.messages.length).toBeGreaterThan(0);
    expect(doc.messages.every((m) => m.size === MESSAGE)).toBe(true);
    expect(doc.connections).toHaveLength(1);
    expect(doc.connections[0]!.messages).toBe(doc.messages.length);
  }, 60_000);
});
