// Loads netdiag_test.node, the separate addon with the native pieces only tests use (TUN
// devices for the network simulator; native/testing/). Nothing the package loads for its
// users imports this module: the prebuilds ship netdiag.node alone, and the test addon
// exists only where the addon was built from source (build/Release, or the sanitizer
// build next to NETDIAG_ADDON).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { addonInfo, native, packageRoot } from './native.js';

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

const ADDON_FILE = 'netdiag_test.node';

/**
 * Where the test addon is: next to the loaded main addon when that is a build from source
 * (build/Release, or NETDIAG_ADDON's directory for the sanitizer build), else build/Release.
 */
export function testAddonPath(): string {
  const beside = join(dirname(addonInfo().path), ADDON_FILE);
  return existsSync(beside) ? beside : join(packageRoot(), 'build', 'Release', ADDON_FILE);
}

let cached: TunBinding | undefined;

/** The test addon; throws a clear error when it was not built. */
export function testingAddon(): TunBinding {
  if (cached) return cached;
  const path = testAddonPath();
  let raw: TestAddonExports;
  try {
    raw = createRequire(import.meta.url)(path) as TestAddonExports;
  } catch (e) {
    throw new Error(
      `cannot load the netdiag test addon ${path}: ${(e as Error).message.split('\n')[0]} ` +
        `(build it from source: npm run build:native)`,
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
