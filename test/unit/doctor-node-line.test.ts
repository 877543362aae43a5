// doctor's Node check: the release line, its end of life, and a warning (not a failure of
// the report) once the line is past it.
import { describe, expect, it } from 'vitest';
import { nodeLineStatus, TESTED_NODE_LINES } from '../../src/doctor/node-lines.js';
import { doctor } from '../../src/doctor.js';

describe('nodeLineStatus', () => {
  it('reads the line and its end of life, ended only after the last day', () => {
    expect(nodeLineStatus('v20.20.2', new Date('2026-04-30T23:00:00Z'))).toEqual({ line: 20, endOfLife: '2026-04-30', ended: false, tested: true });
    expect(nodeLineStatus('v20.20.2', new Date('2026-05-01T00:00:00Z')).ended).toBe(true);
    expect(nodeLineStatus('v24.22.3', new Date('2026-12-06T00:00:00Z'))).toEqual({ line: 24, endOfLife: '2028-04-30', ended: false, tested: true });
  });

  it('odd lines end early and are not tested; an unknown line has no date and is not called ended', () => {
    expect(nodeLineStatus('v25.1.0', new Date('2026-12-06T00:00:00Z'))).toEqual({ line: 25, endOfLife: '2026-06-01', ended: true, tested: false });
    expect(nodeLineStatus('v30.0.0', new Date('2026-12-06T00:00:00Z'))).toEqual({ line: 30, endOfLife: null, ended: false, tested: false });
  });

  it('CI tests the even lines from 20 to 26', () => {
    expect(TESTED_NODE_LINES).toEqual([20, 22, 24, 26]);
  });
});

describe('the node check of doctor()', () => {
  it('reports the running Node and warns (never fails the report) when its line has ended', () => {
    const report = doctor();
    const status = nodeLineStatus(process.version, new Date());
    expect(report.node).toMatchObject({ version: process.version, line: status.line, ended: status.ended });
    const check = report.checks.find((c) => c.name === 'node')!;
    expect(check.ok).toBe(!status.ended);
    if (status.ended) {
      expect(check.warning).toBe(true);
      expect(check.fix).toMatch(/upgrade to Node 24 or 26/);
    }
  });
});
