// netdiag/testing with node:test (no test framework to install): node --test
// A 3-router chain, 20 % loss on the middle router, netdiag's ping run inside the source
// namespace; the hooks build and always delete the namespaces.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTopology, testNetworkSupport } from 'netdiag/testing';

const support = testNetworkSupport();

describe('3-router chain with 20 % loss', { skip: support.ok ? false : `${support.reason}; ${support.fix}` }, () => {
  let net;
  before(async () => {
    net = await createTopology({ routers: 3 });
  });
  after(async () => {
    await net?.close(); // runs after a failed test too; process exit and SIGINT/SIGTERM are covered as well
  });

  it('netdiag ping reports the loss nftables counted', async () => {
    const counter = await net.addLoss(net.routers[1], 20, { match: 'icmp type { echo-request, echo-reply }' });
    const seen = await net.runFunction(
      net.source,
      async (target) => {
        const { ping } = await import('netdiag');
        const r = await ping(target, { count: 200, interval: 5, timeout: 1000 });
        return { transmitted: r.transmitted, received: r.received, loss: r.loss };
      },
      net.target.v4,
    );
    const dropped = (await net.counter(net.routers[1], counter)).packets;
    assert.equal(seen.transmitted, 200);
    assert.equal(seen.transmitted - seen.received, dropped);
    assert.ok(seen.loss > 15 && seen.loss < 60, `loss ${seen.loss} %`);
  });
});
