// netdiag_test.node: native helpers that only tests need (TUN devices for the network
// simulator), kept out of the shipped netdiag.node. Loaded by src/testing/tun-addon.ts
// (netdiag/testing only), from build/Release or prebuilds/<platform>-<arch>/.
// It has no per-environment data: every fd it makes is handed to the main addon's registry
// before it returns (tun.cc), so ownership and closing stay in one place.
#include "../common.h"

namespace netdiag {

void InitTun(Napi::Env env, Napi::Object exports);

}  // namespace netdiag

NAPI_MODULE(netdiag_test, netdiag::RegisterModule<netdiag::InitTun>)
