// The SeqpacketBackend contract (test/contract/seqpacket-backend.ts) against the fake kernel
// SeqpacketSocket's unit tests use (test/helpers/seqpacket-fake-kernel.ts).
import { describeSeqpacketBackendContract } from '../contract/seqpacket-backend.js';
import { FakeKernel } from '../helpers/seqpacket-fake-kernel.js';

let kernel = new FakeKernel();

describeSeqpacketBackendContract('fake kernel', () => (kernel = new FakeKernel()).backend(), {
  loopTurn: async () => kernel.pollAll(),
});
