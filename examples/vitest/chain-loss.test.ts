// netdiag/testing with vitest: a 3-router chain, 20 % loss on the middle router, and a check
// that the code under test (here netdiag's own ping) sees exactly the packets nftables dropped.
// Run as root (or in a container with --cap-add NET_ADMIN --cap-add SYS_ADMIN): npx vitest run
import { describe, expect, it } from 'vitest';
import { createTopology, testNetworkSupport } from 'netdiag/testing';

const support = testNetworkSupport();

describe.skipIf(!support.ok)(`3-router chain with 20 % loss${support.ok ? '' : ` [skipped: ${support.reason}; ${support.fix}]`}`, () => {
  it('netdiag ping reports the loss nftables counted', async () => {
    // `await using` deletes the namespaces when the test ends, passed or failed
    await using net = await createTopology({ routers: 3 });
    const counter = await net.addLoss(net.routers[1], 20, { match: 'icmp type { echo-request, echo-reply }' });

    // Your own code runs inside the source namespace: its sockets see only the chain.
    const seen = await net.runFunction(
      net.source,
      async (target: string) => {
        const { ping } = await import('netdiag');
        const r = await ping(target, { count: 200, interval: 5, timeout: 1000 });
        return { transmitted: r.transmitted, received: r.received, loss: r.loss };
      },
      net.target.v4,
    );

    const dropped = (await net.counter(net.routers[1], counter)).packets;
    expect(seen.transmitted).toBe(200);
    expect(seen.transmitted - seen.received).toBe(dropped); // requests and replies both cross router 2
    expect(seen.loss).toBeGreaterThan(15);
    expect(seen.loss).toBeLessThan(60);
  });
});
