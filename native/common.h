// Shared helpers of the netdiag addon: errno errors, argument checks, per-environment data.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <set>

namespace netdiag {

struct PollHandle;

// One per Node environment (main thread or worker): the loop to poll on and the poll
// handles still open, so the environment's cleanup can close them before the loop ends.
struct InstanceData {
  uv_loop_t* loop = nullptr;
  std::set<PollHandle*> open_polls;
  napi_async_cleanup_hook_handle cleanup_handle = nullptr;
  bool cleaning_up = false;
  bool cleanup_done = false;   // every poll handle closed at teardown
  bool finalized = false;      // Node-API released the instance data
};

// Frees the instance data once both teardown paths are through.
void ReleaseInstanceData(InstanceData* data);

InstanceData* GetInstanceData(Napi::Env env);

// A JS Error with code ('EACCES'), errno (13) and syscall ('socket'), like Node's own.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

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

// Registration of each concern's exports.
void InitSocketOps(Napi::Env env, Napi::Object exports);
void InitDatagramIo(Napi::Env env, Napi::Object exports);
void InitStreamIo(Napi::Env env, Napi::Object exports);
void InitPoller(Napi::Env env, Napi::Object exports);
void InitCapabilities(Napi::Env env, Napi::Object exports);
void InitTun(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

}  // namespace netdiag
