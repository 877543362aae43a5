// netdiag's native addon: a thin, batched socket layer. Protocol logic lives in TypeScript.
#include "common.h"

namespace netdiag {

static void FinalizeInstanceData(napi_env, void* data, void*) {
  auto* d = static_cast<InstanceData*>(data);
  d->finalized = true;
  ReleaseInstanceData(d);
}

void ReleaseInstanceData(InstanceData* data) {
  // both the async cleanup (handles closed) and Node-API (data released) must be done
  if (data->finalized && data->cleanup_done) delete data;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new InstanceData();
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    delete data;
    throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
  }
  data->loop = loop;
  if (napi_set_instance_data(env, data, FinalizeInstanceData, nullptr) != napi_ok) {
    delete data;
    throw Napi::Error::New(env, "napi_set_instance_data failed");
  }
  InitConstants(env, exports);
  InitSocketOps(env, exports);
  InitDatagramIo(env, exports);
  InitStreamIo(env, exports);
  InitPoller(env, exports);
  InitCapabilities(env, exports);
  InitTun(env, exports);
#if defined(__aarch64__)
  exports.Set("arch", "arm64");
#elif defined(__x86_64__)
  exports.Set("arch", "x64");
#else
  exports.Set("arch", "unknown");
#endif
  return exports;
}

NODE_API_MODULE(netdiag, Init)

}  // namespace netdiag
