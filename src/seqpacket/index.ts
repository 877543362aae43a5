// Public surface of the seqpacket IPC layer (re-exported from src/index.ts).
export { SeqpacketServer, type RejectedPeer } from './server.js';
export { SeqpacketSocket, type PeerCredentials, type SendOptions, type MessageInfo, type SeqpacketMessage } from './socket.js';
export { connectSeqpacket, type ConnectOptions } from './connect.js';
export { seqpacketPair } from './pair.js';
export { seqpacketFromFd } from './adopt.js';
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_READABLE_HIGH_WATER_MARK,
  DEFAULT_WRITABLE_HIGH_WATER_MARK,
  type OnRead,
  type SeqpacketServerOptions,
  type SeqpacketSocketOptions,
} from './options.js';
export type { SeqpacketError } from './errors.js';
