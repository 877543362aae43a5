// The caps on target lists (README "Limits"). One number for every way targets come in — -g
// ranges, --file and stdin, the library's arrays — so a typo or a hostile input fails fast
// with a message naming the cap instead of eating memory.

/** Most targets one run takes, from any source (fping's -g stops at the same size). */
export const MAX_TARGETS = 1 << 20;

/** Longest host a target may be: a DNS name is at most 253 characters. */
export const MAX_HOST_LENGTH = 255;

/** Longest line of a target file, comments and trailing words included. */
export const MAX_TARGET_LINE_BYTES = 4096;

/** Most lines a target file may have, blank lines and comments included. */
export const MAX_TARGET_FILE_LINES = 4 * MAX_TARGETS;
