// netdiag doctor: prints what this machine allows and how to fix what is missing.
import { doctor } from '../doctor.js';
import { UsageError } from '../errors.js';
import { commonOptions, formatHelp, parseArgs } from './args.js';
import { printJson, type Output } from './output.js';

const specs = [...commonOptions];

export async function run(argv: string[], out: Output): Promise<number> {
  const { options, positionals } = parseArgs(argv, specs, 'doctor');
  if (options.help) {
    out.out(formatHelp('netdiag doctor [--json]', 'Checks the addon, capabilities, ping sockets, IPv6 and /proc, and says how to fix what is missing.', specs));
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`, 'netdiag doctor takes no arguments');
  const report = doctor();
  if (options.json) {
    printJson(out, report);
    return report.ok ? 0 : 1;
  }
  const lines = [`netdiag doctor — node ${report.node.version}, Linux ${report.kernel.release} ${report.kernel.machine}, uid ${report.user.uid} gid ${report.user.gid}`];
  for (const c of report.checks) {
    lines.push(`${c.ok ? 'ok     ' : c.warning ? 'WARNING' : 'MISSING'}  ${c.name.padEnd(16)}${c.detail}`);
    if (!c.ok && c.fix) lines.push(`         ${''.padEnd(16)}fix: ${c.fix}`);
  }
  out.out(lines.join('\n') + '\n');
  return report.ok ? 0 : 1;
}
