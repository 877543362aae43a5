// netdiag's native addon: a thin, batched socket layer. Protocol logic lives in TypeScript.
//
// Environment lifecycle. Each environment (main thread, each worker) gets an InstanceData.
// Its teardown runs in two steps that may finish in either order:
//   1. the async cleanup hook (OnEnvCleanup): closes every poll handle, then every fd the
//      environment owns (uv_close takes the fd out of epoll at once, so the fds can go right
//      after), and completes when the last handle's close callback ran;
//   2. Node-API's finalizer of the instance data.
// The data is freed when both are through.
#include "common.h"
#include "sockaddr.h"

namespace netdiag {

void InitSockDiag(Napi::Env env, Napi::Object exports);  // sock_diag.cc

static void FinalizeInstanceData(napi_env, void* data, void*) {
  auto* d = static_cast<InstanceData*>(data);
  d->finalized = true;
  ReleaseInstanceData(d);
}

void ReleaseInstanceData(InstanceData* data) {
  // both the async cleanup (handles closed) and Node-API (data released) must be done
  if (data->finalized && data->cleanup_done) delete data;
}

void FinishEnvCleanupIfDone(InstanceData* data) {
  if (!data->cleaning_up || !data->open_polls.empty() || data->cleanup_handle == nullptr) return;
  napi_async_cleanup_hook_handle handle = data->cleanup_handle;
  data->cleanup_handle = nullptr;
  napi_remove_async_cleanup_hook(handle);
  data->cleanup_done = true;
  ReleaseInstanceData(data);
}

// Environment teardown (process exit, worker end). No JS runs any more: close the poll
// handles first (libuv must not watch a closed fd), then the fds.
static void OnEnvCleanup(napi_async_cleanup_hook_handle, void* arg) {
  auto* data = static_cast<InstanceData*>(arg);
  data->cleaning_up = true;
  CloseAllPolls(data);
  CloseAllOwnedFds(data);
  FinishEnvCleanupIfDone(data);
}

// The instance data and its teardown hook, before anything else can fail: whatever Init
// registers after this is torn down with the environment even when Init does not finish.
static void SetUpInstanceData(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
  }
  auto* data = new InstanceData();
  data->loop = loop;
  if (napi_set_instance_data(env, data, FinalizeInstanceData, nullptr) != napi_ok) {
    delete data;
    throw Napi::Error::New(env, "napi_set_instance_data failed");
  }
  if (napi_add_async_cleanup_hook(env, OnEnvCleanup, data, &data->cleanup_handle) != napi_ok) {
    // the finalizer alone frees the data then
    data->cleanup_handle = nullptr;
    data->cleanup_done = true;
    throw Napi::Error::New(env, "napi_add_async_cleanup_hook failed");
  }
}

static void Init(Napi::Env env, Napi::Object exports) {
  SetUpInstanceData(env);
  InitConstants(env, exports);
  InitSocketOps(env, exports);
  InitSockaddr(env, exports);
  InitDatagramIo(env, exports);
  InitStreamIo(env, exports);
  InitPoller(env, exports);
  InitCapabilities(env, exports);
  InitClock(env, exports);
  InitSockDiag(env, exports);
#if defined(__aarch64__)
  exports.Set("arch", "arm64");
#elif defined(__x86_64__)
  exports.Set("arch", "x64");
#else
  exports.Set("arch", "unknown");
#endif
}

}  // namespace netdiag

NAPI_MODULE(netdiag, netdiag::RegisterModule<netdiag::Init>)
