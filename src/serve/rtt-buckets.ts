// smokeping_prober's default round-trip buckets: prometheus.ExponentialBuckets(0.00005, 2, 20),
// 50 µs doubling to 26.2144 s. Written out (not computed) so the `le` texts are exactly its.
export const RTT_BUCKETS_SECONDS: readonly number[] = [
  5e-05, 0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256,
  0.0512, 0.1024, 0.2048, 0.4096, 0.8192, 1.6384, 3.2768, 6.5536, 13.1072, 26.2144,
];
