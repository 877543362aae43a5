// How a failure reads on stderr: one line `netdiag: <what went wrong> (<how to fix>)` whose fix
// matches the cause (contract.md). System errors are explained by their syscall and errno —
// `run netdiag doctor` only where doctor can help (privileges, missing IPv6) — and nothing a
// user typed or a file held can put control bytes on the terminal.
import { InputError, InterruptedError, PrivilegeError, ResolveError, UsageError, isSystemError, type SystemError } from '../errors.js';

interface Cause {
  problem: string;
  /** the fix; `flags` names the options of the command that set the failing value */
  fix: (command: string) => string;
  /** only for these commands (all when absent) */
  commands?: string[];
}

const flag = (byCommand: Record<string, string>, command: string): string => byCommand[command] ?? '';
const DOCTOR = 'run netdiag doctor to see what this machine allows';

/** Causes by `syscall code`, then by code alone. */
const CAUSES: Record<string, Cause> = {
  'bind EADDRNOTAVAIL': {
    problem: 'the source address is not an address of this host',
    fix: (c) => `give ${flag({ ping: '-I ', traceroute: '-s ' }, c)}an address that ip addr lists, or leave it out`,
  },
  'setsockopt ENODEV': {
    problem: 'no such network interface',
    fix: (c) => `check the name given to ${flag({ ping: '-I', traceroute: '-i' }, c) || 'the interface option'}: ip link lists the interfaces`,
  },
  // ping --tcp and traceroute -T hold their TCP source ports with bound sockets (seqpacket's
  // bind errors name their path themselves)
  'bind EADDRINUSE': {
    problem: 'no run of free local TCP ports is left for the probes',
    fix: () => 'wait for connections to close or widen net.ipv4.ip_local_port_range',
    commands: ['ping', 'traceroute'],
  },
  'connect ENETUNREACH': { problem: 'no route to the target', fix: () => 'check the address; ip route get ADDRESS shows the route' },
  'connect EHOSTUNREACH': { problem: 'no route to the target', fix: () => 'check the address; ip route get ADDRESS shows the route' },
  'connect EADDRNOTAVAIL': { problem: 'the target cannot be reached from the source address', fix: () => 'check the target and the source address of the same family' },
  EACCES: { problem: 'permission denied', fix: () => DOCTOR },
  EPERM: { problem: 'operation not permitted', fix: () => DOCTOR },
  EAFNOSUPPORT: { problem: 'this address family is not available', fix: () => DOCTOR },
  EPROTONOSUPPORT: { problem: 'this protocol is not available', fix: () => DOCTOR },
  EMFILE: { problem: 'too many open files', fix: () => 'raise the limit (ulimit -n) or give fewer targets' },
  ENFILE: { problem: 'too many open files on this system', fix: () => 'close other programs or raise fs.file-max' },
  ENOMEM: { problem: 'out of memory', fix: () => 'give fewer targets' },
  ENOBUFS: { problem: 'no buffer space', fix: () => 'send more slowly (-i, --rate) or raise net.core.wmem_max' },
};

function strerror(e: SystemError): string {
  // the addon's text is 'CODE: strerror, syscall'; Node's is 'syscall CODE host'
  const m = /^[A-Z0-9_]+: (.*), [a-z_0-9]+$/.exec(e.message);
  return m ? m[1]! : e.message;
}

function describeSystemError(e: SystemError, command: string): string {
  if (e.syscall === 'getaddrinfo' || e.syscall === 'getnameinfo' || e.syscall === 'queryA') {
    return ResolveError.fromLookup(String((e as { hostname?: unknown }).hostname ?? ''), e).message;
  }
  const cause = [CAUSES[`${e.syscall} ${e.code}`], CAUSES[e.code]].find((c) => c && (!c.commands || c.commands.includes(command)));
  if (cause) return `${e.syscall} failed with ${e.code}: ${cause.problem} (${cause.fix(command)})`;
  return `${e.syscall} failed with ${e.code}: ${strerror(e)} (set NETDIAG_DEBUG=1 for details)`;
}

/** Our option errors carry Node's codes; an error without one is a bug of netdiag's own. */
function isOptionError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_');
}

/** The text after `netdiag: ` for a failure of `command` (escape it with printable()). */
export function describeFailure(e: unknown, command = ''): string {
  if (e instanceof UsageError || e instanceof PrivilegeError || e instanceof InputError || e instanceof ResolveError) return e.message;
  if (e instanceof InterruptedError) return `${e.message} (nothing was sent)`;
  if (isSystemError(e)) return describeSystemError(e, command);
  if ((e instanceof TypeError || e instanceof RangeError) && isOptionError(e)) return `${e.message} (see netdiag ${command || ''}${command ? ' ' : ''}--help)`;
  if (e instanceof Error) return `internal error: ${e.message} (please report it with the command line; NETDIAG_DEBUG=1 shows the stack)`;
  return `internal error: ${String(e)} (please report it with the command line; NETDIAG_DEBUG=1 shows the stack)`;
}

export { printable, printableLine } from '../runtime/printable-text.js';
