// Per-hop statistics of a report (mtr's columns): loss, last/avg/best/worst RTT, the sample
// standard deviation (Welford, as mtr) and jitter as the mean absolute difference between
// consecutive RTTs (mtr's Javg).
import type { HopStats } from './types.js';

export class HopStatsAccumulator {
  private sent = 0;
  private received = 0;
  private last: number | null = null;
  private best = Infinity;
  private worst = -Infinity;
  private mean = 0;
  private m2 = 0;
  private jitterSum = 0;
  private jitterCount = 0;

  /** One probe's outcome: its RTT, or null when it got no answer. */
  add(rtt: number | null): void {
    this.sent++;
    if (rtt === null) return;
    if (this.last !== null) {
      this.jitterSum += Math.abs(rtt - this.last);
      this.jitterCount++;
    }
    this.received++;
    this.last = rtt;
    if (rtt < this.best) this.best = rtt;
    if (rtt > this.worst) this.worst = rtt;
    const delta = rtt - this.mean;
    this.mean += delta / this.received;
    this.m2 += delta * (rtt - this.mean);
  }

  stats(): HopStats {
    const got = this.received > 0;
    return {
      sent: this.sent,
      received: this.received,
      loss: this.sent === 0 ? 0 : ((this.sent - this.received) / this.sent) * 100,
      last: this.last,
      avg: got ? this.mean : null,
      best: got ? this.best : null,
      worst: got ? this.worst : null,
      stddev: got ? (this.received > 1 ? Math.sqrt(this.m2 / (this.received - 1)) : 0) : null,
      jitter: this.jitterCount > 0 ? this.jitterSum / this.jitterCount : got ? 0 : null,
    };
  }
}
