// The name lookup every engine backend offers (resolveTarget of PingBackend and of
// TracerouteBackend), as one part of their contracts: getaddrinfo's answers for literals,
// localhost and a name that cannot exist (.invalid never leaves the resolver).
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';

export interface TargetResolver {
  resolveTarget(target: string, family: 4 | 6 | undefined): Promise<{ address: string; family: 4 | 6 }>;
}

export function describeResolveTargetContract(makeBackend: () => TargetResolver): void {
  describe('resolveTarget', () => {
    it('answers an address literal with itself and its own family', async () => {
      const b = makeBackend();
      await expect(b.resolveTarget('127.0.0.1', undefined)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
      await expect(b.resolveTarget('::1', undefined)).resolves.toEqual({ address: '::1', family: 6 });
    });

    it('resolves localhost in the family asked for, or refuses with a ResolveError', async () => {
      const b = makeBackend();
      await expect(b.resolveTarget('localhost', 4)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
      const any = await b.resolveTarget('localhost', undefined);
      expect(isIP(any.address)).toBe(any.family);
      expect(['127.0.0.1', '::1']).toContain(any.address);
      // hosts files differ on ::1 localhost; never an IPv4 answer to an IPv6 question
      const v6 = await b.resolveTarget('localhost', 6).catch((e: unknown) => e);
      if (v6 instanceof Error) expect(v6).toMatchObject({ name: 'ResolveError', code: 'ERR_NETDIAG_RESOLVE', host: 'localhost' });
      else expect(v6).toEqual({ address: '::1', family: 6 });
    });

    it('refuses a name that does not exist with a ResolveError naming it', async () => {
      const b = makeBackend();
      await expect(b.resolveTarget('no-such-host.invalid', undefined)).rejects.toMatchObject({
        name: 'ResolveError', code: 'ERR_NETDIAG_RESOLVE', host: 'no-such-host.invalid',
      });
    });
  });
}
