// Public surface of the socket lister (re-exported by src/index.ts).
export { listSockets } from './list-sockets.js';
export { NoSuchProcessError, scanSockets, type SocketScan } from './scan.js';
export type {
  ListSocketsOptions,
  PortSelector,
  SocketEntry,
  SocketFamily,
  SocketOwner,
  SocketProtocol,
  SocketState,
  SocketStateSelector,
  SocketTimer,
  SocketTimerKind,
  SocketType,
  SocketsDocument,
  SocketMemory,
  SocketsBackend,
  TcpInfo,
} from './types.js';
