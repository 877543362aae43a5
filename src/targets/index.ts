// Where target lists come from: address ranges (-g) and files (--file).
export { expandCidr, expandRange, MAX_RANGE_ADDRESSES } from './address-range.js';
export { parseTargetList, readTargetFile } from './target-file.js';
