// Plumbing every engine shares (ping, traceroute, seqpacket, sockets): the clock, the
// push-to-pull event queue, the reverse-DNS cache and system errors. Nothing here knows a
// protocol; it sits on the ground floor with src/native.ts.
//
// Naming rule for injected dependencies:
// - An engine names what it needs from the outside world as an interface: `XBackend`
//   (PingBackend, TracerouteBackend, SeqpacketBackend), `Clock`, `ReverseResolver`.
// - The real implementation is always a function named `systemX()`: `systemBackend()`,
//   `systemClock()`, `systemReverseResolver()` — never `nativeBackend`, `realBackend` or a
//   bare const — so "the real one" is found by one word. A variant that does its setup first
//   (opens sockets before capabilities drop) is `preparedBackend()`.
// - Fakes implement the same interface and live in test/ (test/helpers/, test/sim/), never in src/.
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { AsyncEventQueue, runAsEventQueue, type AsyncEventQueueHooks } from './event-queue.js';
export { ReverseDnsCache, systemReverseResolver, type ReverseDnsCacheOptions, type ReverseResolver } from './reverse-dns.js';
export { systemError, type SystemError } from './system-error.js';
