// Targets from a file or stdin, one per line as fping -f reads them: blank lines and lines
// starting with # are skipped, and only the first word of a line counts.

import { readFile } from 'node:fs/promises';

export function parseTargetList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const word = line.trim().split(/\s+/)[0];
    if (word && !word.startsWith('#')) out.push(word);
  }
  return out;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the targets of `path`, or of stdin for '-'. */
export async function readTargetFile(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string[]> {
  const text = path === '-' ? await readStream(stdin) : await readFile(path, 'utf8');
  return parseTargetList(text);
}
