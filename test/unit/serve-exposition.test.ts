// The exposition formats: escaping, histogram lines, le spelling, OpenMetrics differences,
// Accept negotiation and the series cap.
import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, exposeText, formatBound, negotiateFormat, renderLabels } from '../../src/serve/exposition.js';
import { Histogram, MetricRegistry, SeriesLimitError, type Sample } from '../../src/serve/metric-registry.js';
import { RTT_BUCKETS_SECONDS } from '../../src/serve/rtt-buckets.js';
import { ProbeMetrics } from '../../src/serve/target-metrics.js';

describe('serve exposition', () => {
  it('escapes label values and help texts per format', () => {
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(renderLabels([['a', 'x"y'], ['b', '']])).toBe('a="x\\"y",b=""');
    expect(escapeHelp('say "hi"\\\n', 'text')).toBe('say "hi"\\\\\\n');
    expect(escapeHelp('say "hi"', 'openmetrics')).toBe('say \\"hi\\"');
  });

  it('spells bucket bounds as client_golang does', () => {
    expect(RTT_BUCKETS_SECONDS.map(formatBound).join(',')).toBe(
      '5e-05,0.0001,0.0002,0.0004,0.0008,0.0016,0.0032,0.0064,0.0128,0.0256,0.0512,0.1024,0.2048,0.4096,0.8192,1.6384,3.2768,6.5536,13.1072,26.2144');
    expect(formatBound(1e6)).toBe('1e+06');
    expect(formatBound(123456)).toBe('123456');
    expect(formatBound(Infinity)).toBe('+Inf');
    // smokeping_prober's doubling: every bound twice the one before
    for (let i = 1; i < RTT_BUCKETS_SECONDS.length; i++) expect(RTT_BUCKETS_SECONDS[i]).toBeCloseTo(RTT_BUCKETS_SECONDS[i - 1]! * 2, 12);
  });

  it('counts observations into cumulative buckets, the bound itself included', () => {
    const h = new Histogram([0.001, 0.01]);
    for (const v of [0.0005, 0.001, 0.002, 0.01, 5]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 1]);
    const r = new MetricRegistry();
    r.family<Histogram>('x_seconds', 'histogram', 'x', [0.001, 0.01]).add('t="a"', h);
    expect(exposeText([r], 'text')).toBe([
      '# HELP x_seconds x', '# TYPE x_seconds histogram',
      'x_seconds_bucket{t="a",le="0.001"} 2', 'x_seconds_bucket{t="a",le="0.01"} 4', 'x_seconds_bucket{t="a",le="+Inf"} 5',
      'x_seconds_sum{t="a"} 5.0135', 'x_seconds_count{t="a"} 5', '',
    ].join('\n'));
  });

  it('writes OpenMetrics counters without _total in TYPE and ends with # EOF', () => {
    const r = new MetricRegistry();
    r.family<Sample>('a_total', 'counter', 'the "a"').add('').value = 3;
    r.family<Sample>('g', 'gauge', 'g').add('k="v"').value = NaN;
    expect(exposeText([r], 'openmetrics')).toBe('# HELP a the \\"a\\"\n# TYPE a counter\na_total 3\n# HELP g g\n# TYPE g gauge\ng{k="v"} NaN\n# EOF\n');
    expect(exposeText([r], 'text')).toBe('# HELP a_total the "a"\n# TYPE a_total counter\na_total 3\n# HELP g g\n# TYPE g gauge\ng{k="v"} NaN\n');
  });

  it('negotiates the format from Accept as Prometheus sends it', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('text/plain')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.9')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=2.0.0')).toBe('text');
  });

  it('keeps the number of series under the cap and per target, never per probe', () => {
    const r = new MetricRegistry(30);
    const m = new ProbeMetrics(r, true);
    const id = { host: 'h', address: '127.0.0.1', family: 4 as const, method: 'icmp', labels: {}, source: null, tos: 0 };
    const t = m.seriesFor(id);
    const before = r.size;
    for (let seq = 1; seq <= 1000; seq++) {
      t.onEvent({ type: 'sent', index: 0, target: { target: 'h', address: '127.0.0.1', family: 4 }, seq, sentAt: 0 });
      t.onEvent({ type: 'error', index: 0, target: { target: 'h', address: '127.0.0.1', family: 4 }, seq, from: '10.0.0.1', rtt: 1, receivedAt: 0, error: { type: 3, code: seq % 16, message: 'x', mtu: null } });
    }
    expect(t.sent.value).toBe(1000);
    // eight (type, code) kinds of their own, the rest under "other"
    expect(r.size - before).toBe(9);
    expect(exposeText([r], 'text')).toContain('netdiag_probe_icmp_errors_total{target="h",address="127.0.0.1",family="4",method="icmp",type="other",code="other"} 496');
    expect(() => m.seriesFor({ ...id, address: '127.0.0.2' })).toThrow(SeriesLimitError);
  });
});
