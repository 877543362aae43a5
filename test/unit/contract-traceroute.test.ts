// The TracerouteBackend contract (test/contract/traceroute-backend.ts) against the simulated
// path the engine's unit tests use (test/sim/fake-network.ts): one hop, the destination.
import { describeTracerouteBackendContract } from '../contract/traceroute-backend.js';
import { fakeBackend, FakeClock, FakePath } from '../sim/fake-network.js';
import type { TracerouteBackend } from '../../src/traceroute/backend.js';

let clock = new FakeClock();

/** A backend whose transports are fake paths to the requested target, shaped as requested. */
function fakeLoopbackBackend(): TracerouteBackend {
  clock = new FakeClock();
  const template = fakeBackend(clock, new FakePath(clock, []));
  return {
    ...template,
    openTransport: (r) => new FakePath(clock, [{ address: r.target, rtt: 0.05 }], { method: r.method, family: r.family }),
  };
}

describeTracerouteBackendContract('fake path', fakeLoopbackBackend, {
  methods: [{ method: 'icmp', socket: 'raw' }],
  families: [4, 6],
  run: (p) => clock.run(p),
});
