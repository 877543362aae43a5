// Where target lists come from: address ranges (-g) and files (--file); the caps they share.
export { expandCidr, expandRange, MAX_RANGE_ADDRESSES } from './address-range.js';
export { hostProblem, mappedIPv4 } from './host-text.js';
export { MAX_HOST_LENGTH, MAX_TARGETS, MAX_TARGET_FILE_LINES, MAX_TARGET_LINE_BYTES } from './limits.js';
export { parseTargetList, readTargetFile, TargetListParser } from './target-file.js';
