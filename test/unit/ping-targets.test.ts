// Target lists: -g CIDR and FROM TO ranges (IPv4 like fping, IPv6), and target files.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_RANGE_ADDRESSES, expandCidr, expandRange } from '../../src/cli/ping/address-range.js';
import { parseTargetList, readTargetFile } from '../../src/cli/ping/target-file.js';

describe('-g', () => {
  it('expands an IPv4 block without network and broadcast address, as fping does', () => {
    expect(expandCidr('127.0.0.0/30')).toEqual(['127.0.0.1', '127.0.0.2']);
    expect(expandCidr('127.0.0.0/31')).toEqual(['127.0.0.0', '127.0.0.1']);
    expect(expandCidr('127.0.0.4/32')).toEqual(['127.0.0.4']);
    expect(expandCidr('127.0.0.77/24')).toHaveLength(254);
    expect(expandCidr('10.0.0.0/16').at(-1)).toBe('10.0.255.254');
  });

  it('expands IPv6 blocks and ranges', () => {
    expect(expandCidr('fd00::/126')).toEqual(['fd00::', 'fd00::1', 'fd00::2', 'fd00::3']);
    expect(expandRange('fd00::ffff', 'fd00::1:1')).toEqual(['fd00::ffff', 'fd00::1:0', 'fd00::1:1']);
  });

  it('expands FROM TO inclusively across octets', () => {
    expect(expandRange('127.0.0.254', '127.0.1.1')).toEqual(['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
    expect(expandRange('127.0.0.1', '127.0.39.16')).toHaveLength(10_000);
  });

  it('refuses bad blocks and ranges, and ranges too large to hold', () => {
    expect(() => expandCidr('10.0.0.0')).toThrow(RangeError);
    expect(() => expandCidr('10.0.0.0/33')).toThrow(/0 to 32/);
    expect(() => expandCidr('fd00::/-1')).toThrow(/0 to 128/);
    expect(() => expandCidr('host/24')).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => expandRange('10.0.0.2', '10.0.0.1')).toThrow(/ends before it starts/);
    expect(() => expandRange('10.0.0.1', 'fd00::1')).toThrow(/mixes/);
    expect(() => expandCidr('10.0.0.0/8')).toThrow(new RegExp(`more than the ${MAX_RANGE_ADDRESSES}`));
    expect(expandCidr('10.0.0.0/12')).toHaveLength(MAX_RANGE_ADDRESSES - 2);
  });
});

describe('--file', () => {
  it('takes the first word of each line, skipping blanks and # comments', () => {
    expect(parseTargetList('a\n\n  b  trailing words\n# comment\n#c\n\tc\r\n')).toEqual(['a', 'b', 'c']);
  });

  it('reads ASCII and other text alike: first words, white space, comments, line numbers', () => {
    const lines = ['\v\f127.0.0.1\x0bx', ' #127.0.0.2', '\u00e9t\u00e9.example\u3000y', 'host-\u00e9 z', '\u3000', '::1\r'];
    // the general path (trim, split on \s) decides what a word is for text that is not ASCII
    const expected = ['127.0.0.1', 'été.example\u3000y'.trim().split(/\s+/)[0], 'host-é', '::1'];
    expect(parseTargetList(lines.join('\n') + '\n')).toEqual(expected);
    const ascii = ['10.0.0.1', '', '# x', '  10.0.0.2\tfoo', 'name.example'];
    expect(parseTargetList(ascii.join('\n'))).toEqual(['10.0.0.1', '10.0.0.2', 'name.example']);
    // an ASCII chunk reports the line a bad host is on
    expect(() => parseTargetList('10.0.0.1\n\n10.0.0.2\n\x01bad\n')).toThrow(/^line 4: the host holds white space or control characters/);
  });

  it('reads stdin for -', async () => {
    expect(await readTargetFile('-', Readable.from(['127.0.0.1\n127.', '0.0.2\n']))).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});
