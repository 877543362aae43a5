// vitest wrappers around netdiag/testing (src/testing): build in beforeAll, destroy in afterAll
// (which vitest runs even when tests or beforeAll itself failed). The namespace code itself is
// the public module; this file keeps the imports of netdiag's own tests short.
import { afterAll, beforeAll } from 'vitest';
import { createTopology, type Topology, type TopologyOptions } from '../../src/testing/chain.js';
import { loopbackNamespace, type LoopbackNamespace, type LoopbackOptions } from '../../src/testing/loopback.js';

export * from '../../src/testing/index.js';

function lazyHandle<T extends object>(what: string, create: () => Promise<T & { destroy(): Promise<void> }>): T {
  let instance: (T & { destroy(): Promise<void> }) | undefined;
  beforeAll(async () => {
    instance = await create();
  });
  afterAll(async () => {
    await instance?.destroy();
  });
  return new Proxy({} as T, {
    get(_target, prop) {
      if (!instance) throw new Error(`${what} is not built yet: use it inside tests or hooks, not while collecting them`);
      const value = Reflect.get(instance, prop, instance) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(instance) : value;
    },
    has(_target, prop) {
      return instance !== undefined && prop in instance;
    },
  });
}

/**
 * Inside a describe(): a Topology built before the tests and destroyed after them.
 *   const net = useTopology({ routers: 8 });
 *   it('…', async () => { await net.run(net.source, 'ping', ['-c1', net.target.v4]); });
 */
export function useTopology(opts: TopologyOptions = {}): Topology {
  return lazyHandle('the topology', () => createTopology(opts));
}

/** Inside a describe(): a LoopbackNamespace built before the tests and destroyed after them. */
export function useLoopbackNamespace(opts: LoopbackOptions = {}): LoopbackNamespace {
  return lazyHandle('the loopback namespace', () => loopbackNamespace(opts));
}
