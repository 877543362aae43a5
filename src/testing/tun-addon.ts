// Loads netdiag_test.node, the separate addon with the native pieces only netdiag/testing uses
// (TUN devices for the path simulator; native/testing/). Only src/testing/ imports this
// module, so `import 'netdiag'` never maps it and netdiag.node carries no test code.
// Where it is, first match wins:
//   1. beside the main addon that was loaded: NETDIAG_ADDON's directory (the sanitizer build,
//      or a prebuild chosen by scripts/test-under-node.sh), build/Release, or the prebuilds
//      directory node-gyp-build picked (prebuilds/linux-<arch>/, where the package ships it);
//   2. build/Release of the package (a build from source), unless PREBUILDS_ONLY is set;
//   3. prebuilds/linux-<arch>/ of the package.
// node-gyp-build cannot be asked for an addon by name (it takes the first .node file of a
// directory), so the file is named here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { addonInfo, native, packageRoot } from '../native.js';

/** TUN devices: whole IP packets in and out of a virtual interface. */
export interface TunBinding {
  /**
   * Opens a TUN device (IFF_TUN | IFF_NO_PI, non-blocking). Its fd is owned by the main
   * addon's registry like a socket: close it with native().close(fd).
   */
  openTun(name?: string): { fd: number; name: string };
  /** Reads up to max packets into slotSize-byte slots; their lengths go to lengths. 0: none ready. */
  readPackets(fd: number, buf: Buffer, slotSize: number, max: number, lengths: Int32Array): number;
  /** Writes one packet; false when the device's queue is full. */
  writePacket(fd: number, buf: Buffer, offset: number, length: number): boolean;
}

/** The test addon's own exports (native/testing/tun.cc). */
interface TestAddonExports {
  openTun(name: string | undefined, adopt: (fd: number) => void): { fd: number; name: string };
  readPackets: TunBinding['readPackets'];
  writePacket: TunBinding['writePacket'];
}

export const TEST_ADDON_FILE = 'netdiag_test.node';

/** Every place the test addon may be, in the order they are tried. */
export function testAddonCandidates(): string[] {
  const root = packageRoot();
  const candidates = [join(dirname(addonInfo().path), TEST_ADDON_FILE)];
  if (!process.env.PREBUILDS_ONLY) candidates.push(join(root, 'build', 'Release', TEST_ADDON_FILE));
  candidates.push(join(root, 'prebuilds', `${platform()}-${arch()}`, TEST_ADDON_FILE));
  return [...new Set(candidates)];
}

/** Where the test addon is: the first candidate that exists, else the first one (for the error). */
export function testAddonPath(): string {
  const candidates = testAddonCandidates();
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

let cached: TunBinding | undefined;

/** The test addon; throws a clear error when there is none for this platform. */
export function testingAddon(): TunBinding {
  if (cached) return cached;
  const candidates = testAddonCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `cannot load the netdiag test addon (TUN): no ${TEST_ADDON_FILE} in ${candidates.map((c) => dirname(c)).join(', ')} ` +
        `(reinstall netdiag, or build it from source: npm run build:native)`,
    );
  }
  let raw: TestAddonExports;
  try {
    raw = createRequire(import.meta.url)(path) as TestAddonExports;
  } catch (e) {
    throw new Error(
      `cannot load the netdiag test addon ${path}: ${(e as Error).message.split('\n')[0]} ` +
        `(reinstall netdiag, or build it from source: npm run build:native)`,
    );
  }
  const n = native();
  cached = {
    // the fd is adopted by the main addon before openTun returns: one registry, one close path
    openTun: (name) => raw.openTun(name, (fd) => n.adoptFd(fd)),
    readPackets: raw.readPackets,
    writePacket: raw.writePacket,
  };
  return cached;
}
