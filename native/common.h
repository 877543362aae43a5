// Shared helpers of the netdiag addons: errno errors, exception-safe entry points,
// per-environment data. Arguments are read with Args (args.h).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <set>
#include <unordered_set>

#include "args.h"

namespace netdiag {

struct PollHandle;

// One per Node environment (main thread or worker): the loop to poll on, the poll handles
// still open and every descriptor the addon made for this environment, so that its teardown
// (a terminated worker, process exit) closes the handles and then the descriptors.
struct InstanceData {
  uv_loop_t* loop = nullptr;
  std::set<PollHandle*> open_polls;
  std::unordered_set<int> owned_fds;  // see fd_registry.cc
  napi_async_cleanup_hook_handle cleanup_handle = nullptr;
  bool cleaning_up = false;
  bool cleanup_done = false;   // every poll handle closed at teardown
  bool finalized = false;      // Node-API released the instance data
};

// Frees the instance data once both teardown paths are through.
void ReleaseInstanceData(InstanceData* data);
// Called when the last poll handle closed during teardown: ends the environment's cleanup.
void FinishEnvCleanupIfDone(InstanceData* data);

InstanceData* GetInstanceData(Napi::Env env);

// A JS Error with code ('EACCES'), errno (13) and syscall ('socket'), like Node's own.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Inside a catch block: makes the exception being handled the pending JS exception. Never
// throws: when a JS exception is already pending it is kept, and when the environment is
// being torn down (a terminated worker) there is nobody to throw to and nothing is thrown.
void ThrowCaughtAsJs(napi_env env) noexcept;

// A native function whose C++ exceptions become JS exceptions and never reach Node-API
// (an escaping exception is std::terminate: the whole process aborts).
using Handler = Napi::Value (*)(const Napi::CallbackInfo&);
template <Handler F>
napi_value Guarded(napi_env env, napi_callback_info cbinfo) noexcept {
  try {
    Napi::CallbackInfo info(env, cbinfo);
    return F(info);
  } catch (...) {
    ThrowCaughtAsJs(env);
  }
  return nullptr;
}

// An addon's registration (NAPI_MODULE(name, RegisterModule<Init>)), with the C API rather
// than NODE_API_MODULE: a worker terminated while it loads the addon makes Node-API calls
// fail in Init, and node-addon-api's registration wrapper then throws a second C++
// exception from its catch block, which ends in std::terminate (SIGABRT for the whole
// process). Here every failure becomes a JS exception, or nothing when the environment is
// going away.
template <void (*Init)(Napi::Env, Napi::Object)>
napi_value RegisterModule(napi_env env, napi_value exports) noexcept {
  try {
    Init(Napi::Env(env), Napi::Object(env, exports));
    return exports;
  } catch (...) {
    ThrowCaughtAsJs(env);
  }
  return nullptr;
}

// exports[name] = a Guarded function; data is what info.Data() returns.
void ExportFunction(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb, void* data = nullptr);
#define NETDIAG_EXPORT(env, exports, name, fn) ::netdiag::ExportFunction(env, exports, name, ::netdiag::Guarded<fn>)

// The same for an entry point that takes its Args directly: no node-addon-api CallbackInfo
// is built (datagram_io.cc's per-batch calls).
template <napi_value (*F)(const Args&)>
napi_value Entry(napi_env env, napi_callback_info info) noexcept {
  try {
    Args args(env, info);
    return F(args);
  } catch (...) {
    ThrowCaughtAsJs(env);
  }
  return nullptr;
}

// Every descriptor the addon creates is owned by its environment (fd_registry.cc).
// The fd returned by a system call that made it, now owned; -1 passes through.
int OwnFd(InstanceData* data, int fd);
// The application takes fd (a received SCM_RIGHTS fd): no longer closed at teardown.
void ReleaseFd(InstanceData* data, int fd);
// The one close path: stops any poll on fd, forgets it, closes it. 0 or the errno of close.
int CloseOwnedFd(InstanceData* data, int fd);
// Teardown: closes every owned fd (the poll handles are closed already).
void CloseAllOwnedFds(InstanceData* data);
// Teardown: detaches every Poller and closes its handle (poller.cc).
void CloseAllPolls(InstanceData* data);

// Registration of each concern's exports.
void InitSocketOps(Napi::Env env, Napi::Object exports);
void InitDatagramIo(Napi::Env env, Napi::Object exports);
void InitStreamIo(Napi::Env env, Napi::Object exports);
void InitPoller(Napi::Env env, Napi::Object exports);
void InitCapabilities(Napi::Env env, Napi::Object exports);
void InitClock(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

}  // namespace netdiag
