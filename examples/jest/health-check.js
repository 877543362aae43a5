// The code under test: a health check that pings a host and says whether enough answered.
// It knows nothing about netdiag; the test runs it inside a namespace of the test network.
import { execFile } from 'node:child_process';

/**
 * Pings `host` `count` times (iputils ping) and reports how many replies came back.
 * @param {string} host
 * @param {{ count?: number, intervalS?: number, minReplyRatio?: number }} [opts]
 * @returns {Promise<{ sent: number, received: number, lossPercent: number, healthy: boolean }>}
 */
export function pingHealth(host, { count = 10, intervalS = 0.2, minReplyRatio = 0.9 } = {}) {
  return new Promise((resolve, reject) => {
    // ping exits non-zero when replies are missing: the summary line is what counts
    execFile('ping', ['-n', '-q', '-c', String(count), '-i', String(intervalS), '-W', '1', host], (err, stdout) => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
      if (!m) {
        reject(err ?? new Error(`no ping summary in: ${stdout}`));
        return;
      }
      const sent = Number(m[1]);
      const received = Number(m[2]);
      resolve({ sent, received, lossPercent: (100 * (sent - received)) / sent, healthy: received >= sent * minReplyRatio });
    });
  });
}
