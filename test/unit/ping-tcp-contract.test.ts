// The TCP part of the PingBackend contract (test/contract/ping-backend.ts) on the simulated
// network: its TCP sockets answer port 8080 open and every other port closed.
import { describeTcpPingBackendContract } from '../contract/ping-backend.js';
import { FakeNetwork } from '../helpers/ping-fake-network.js';

const PORTS = { open: 8080, closed: 8081 };
let current: FakeNetwork | null = null;

function fake(): FakeNetwork {
  current = new FakeNetwork(undefined, 'raw');
  current.tcpResponder = (p) => [{ kind: p.port === PORTS.open ? 'open' : 'closed', after: 0.05 }];
  return current;
}

/** Moves the fake clock on, 1 ms at a time, until p settles. */
async function run<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  for (let ms = 0; ms < 60_000; ms++) {
    await new Promise<void>((r) => setImmediate(r));
    if (done) return settled;
    current!.clock.advance(1);
  }
  throw new Error('still unsettled after a minute of fake time');
}

describeTcpPingBackendContract('fake network', fake, { methods: ['tcp-syn', 'tcp-connect'], families: [4, 6], ports: () => PORTS, run });
