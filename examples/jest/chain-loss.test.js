// netdiag/testing with Jest: a 3-router chain, 20 % loss on the middle router, and a check that
// the code under test (health-check.js, which runs iputils ping) sees exactly the packets
// nftables dropped. netdiag/testing is ESM, so Jest runs with native ES modules:
//   npm test    (node --experimental-vm-modules node_modules/jest/bin/jest.js)
// Run as root, or in a container with --cap-add NET_ADMIN --cap-add SYS_ADMIN.
import { createTopology, testNetworkSupport } from 'netdiag/testing';

const support = testNetworkSupport();
// Jest's skip takes no reason: say it once, with what would allow the test to run
if (!support.ok) console.warn(`[skipped] test networks: ${support.reason}; ${support.fix}`);
const describeIfNetworks = support.ok ? describe : describe.skip;

describeIfNetworks('health check across a 3-router chain with 20 % loss', () => {
  let net;
  beforeAll(async () => {
    net = await createTopology({ routers: 3 });
  }, 30_000);
  afterAll(async () => {
    // runs after a failed test too (process exit and SIGINT/SIGTERM are covered as well), so the
    // namespaces never outlive the test file
    await net?.close();
  });

  it('reports the loss that nftables counted', async () => {
    const counter = await net.addLoss(net.routers[1], 20, { match: 'icmp type { echo-request, echo-reply }' });

    // Your code runs in a Node process inside the source namespace: its sockets and the ping
    // it starts see only the chain. The function travels as source, so it imports your module.
    const seen = await net.runFunction(
      net.source,
      async ({ module, target }) => {
        const { pingHealth } = await import(module);
        return pingHealth(target, { count: 200, intervalS: 0.005 });
      },
      { module: new URL('./health-check.js', import.meta.url).href, target: net.target.v4 },
    );

    const dropped = (await net.counter(net.routers[1], counter)).packets;
    expect(seen.sent).toBe(200);
    expect(seen.sent - seen.received).toBe(dropped); // requests and replies both cross router 2
    expect(seen.lossPercent).toBeGreaterThan(15);
    expect(seen.lossPercent).toBeLessThan(60);
    expect(seen.healthy).toBe(false);
  }, 60_000);
});
