// The PingBackend contract (test/contract/ping-backend.ts) against the simulated network the
// engine's unit tests use (test/helpers/ping-fake-network.ts), answering every echo.
import { describePingBackendContract } from '../contract/ping-backend.js';
import { echoResponder, FakeNetwork } from '../helpers/ping-fake-network.js';

/** Moves the fake clock on, 1 ms at a time, until p settles (an hour of fake time at most). */
function runOn(net: () => FakeNetwork) {
  return async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const settled = p.finally(() => (done = true));
    for (let ms = 0; ms < 3_600_000; ms++) {
      await new Promise<void>((r) => setImmediate(r));
      if (done) return settled;
      net().clock.advance(1);
    }
    throw new Error('still unsettled after an hour of fake time');
  };
}

let current: FakeNetwork | null = null;
const network = (): FakeNetwork => {
  if (current === null) throw new Error('no fake network made yet');
  return current;
};

for (const mode of ['raw', 'dgram'] as const) {
  describePingBackendContract(`fake network (${mode})`, () => (current = new FakeNetwork(echoResponder(0.05), mode)), {
    modes: [mode],
    families: [4, 6],
    run: runOn(network),
  });
}
