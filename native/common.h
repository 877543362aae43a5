// Shared helpers of the netdiag addon: errno errors, argument checks, per-environment data.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <set>
#include <unordered_set>

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

// exports[name] = a Guarded function; data is what info.Data() returns.
void ExportFunction(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb, void* data = nullptr);
#define NETDIAG_EXPORT(env, exports, name, fn) ::netdiag::ExportFunction(env, exports, name, ::netdiag::Guarded<fn>)

// Argument checks: throw TypeError/RangeError naming the argument; never abort.
int ArgFd(const Napi::CallbackInfo& info, size_t i);
int32_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name);
int32_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t dflt);
uint32_t ArgUint(const Napi::CallbackInfo& info, size_t i, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::TypedArrayOf<double> ArgFloat64Array(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::TypedArrayOf<int32_t> ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name);

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
void InitTun(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

}  // namespace netdiag
