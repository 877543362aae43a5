// Moved to the public module netdiag/testing (src/testing/process.ts); kept for the tests' imports.
export * from '../../src/testing/process.js';
