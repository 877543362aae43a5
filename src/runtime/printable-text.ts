// Text from outside (a command line, a file, a config key) on its way into a message a person
// reads: control bytes written as \xNN so they cannot drive the terminal, and, for one-line
// messages, newlines and tabs escaped too.

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** text with every control byte but newline and tab written as \xNN. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One line: printable(), and newlines and tabs escaped too. */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
