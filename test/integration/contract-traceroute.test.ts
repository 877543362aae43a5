// The TracerouteBackend contract (test/contract/traceroute-backend.ts) against the system
// backend: every probe method over real sockets to 127.0.0.1 and ::1. Raw sockets need root.
import { systemBackend } from '../../src/traceroute/backend.js';
import { describeTracerouteBackendContract } from '../contract/traceroute-backend.js';
import { describeWith } from '../helpers/requirements.js';

describeWith(['root'], 'system traceroute backend', () => {
  describeTracerouteBackendContract('system', () => systemBackend(), {
    methods: [
      { method: 'icmp', socket: 'raw' },
      { method: 'udp', socket: 'raw' },
      { method: 'udp', socket: 'dgram' },
      { method: 'tcp', socket: 'raw' },
      { method: 'tcp-connect', socket: 'auto' },
    ],
    families: [4, 6],
    run: (p) => p,
  });
});
