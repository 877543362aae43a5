// Moved to the public module netdiag/testing (src/testing/path-responder.ts); kept for the tests' imports.
export * from '../../src/testing/path-responder.js';
