import { describe, expect, it } from 'vitest';
import { dgramAccess } from '../../src/privileges.js';

describe('ping_group_range diagnosis', () => {
  it('Debian default "1 0" admits nobody, root included', () => {
    const a = dgramAccess([1, 0], [0]);
    expect(a.allowed).toBe(false);
    expect(a.fix).toContain('sysctl -w net.ipv4.ping_group_range="0 0"');
  });
  it('admits a supplementary group inside the range', () => {
    const a = dgramAccess([100, 200], [1000, 150]);
    expect(a).toMatchObject({ allowed: true, matchingGroup: 150, fix: null });
  });
  it('suggests widening a non-empty range to include the process group', () => {
    const a = dgramAccess([100, 200], [1000]);
    expect(a.allowed).toBe(false);
    expect(a.fix).toContain('ping_group_range="100 1000"');
  });
  it('an unreadable range is reported, not guessed', () => {
    const a = dgramAccess(null, [0]);
    expect(a.allowed).toBe(false);
    expect(a.reason).toMatch(/not readable/);
  });
});
