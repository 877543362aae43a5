// The ss filter grammar of `netdiag sockets` (src/cli/sockets/filter-expression.ts): the
// input is the argv after the options, split at NUL bytes (or at spaces when it has no NUL).
// Only UsageError escapes (with a one-line message), nesting is bounded, and every port and
// state in the result is in range.
import { parseFilterExpression } from '../../../src/cli/sockets/filter-expression.js';
import { UsageError } from '../../../src/errors.js';
import { check, onlyTypedErrors } from '../invariants.js';

const SERVICES: Record<string, number> = { ssh: 22, http: 80, https: 443, domain: 53 };
const resolvePort = (name: string): number | undefined => SERVICES[name];

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  const args = text.includes('\0') ? text.split('\0') : text.split(' ').filter((a) => a !== '');
  let error: Error | undefined;
  const expr = onlyTypedErrors(() => {
    try {
      return parseFilterExpression(args, resolvePort);
    } catch (e) {
      if (e instanceof UsageError) error = e;
      throw e;
    }
  }, [UsageError], 'parseFilterExpression');
  if (error) check(!error.message.includes('\n'), `filter error spans lines: ${JSON.stringify(error.message)}`);
  if (!expr) return;
  if (expr.stateMask !== null) check(Number.isInteger(expr.stateMask) && expr.stateMask >= 0, `state mask ${expr.stateMask}`);
  check(JSON.stringify(expr).length < 1 << 20, 'filter result is out of proportion to its input');
}
