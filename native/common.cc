#include "common.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

namespace netdiag {

InstanceData* GetInstanceData(Napi::Env env) { return env.GetInstanceData<InstanceData>(); }

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const char* code = uv_err_name(-err);  // libuv's names are the errno names on Linux
  std::string message = std::string(code) + ": " + std::strerror(err) + ", " + syscall;
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Throws value (or, when null, an Error with message) with the C API only, so nothing here
// can throw again. A JS exception already pending wins; napi_throw fails when the
// environment is terminating, and then there is no JS left to see an exception.
static void ThrowValue(napi_env env, napi_value value, const char* message) noexcept {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  if (value != nullptr) {
    napi_throw(env, value);
  } else {
    napi_throw_error(env, nullptr, message);
  }
}

void ThrowCaughtAsJs(napi_env env) noexcept {
  try {
    throw;
  } catch (const Napi::Error& e) {
    napi_value value = nullptr;
    napi_ref ref = e;
    if (ref == nullptr || napi_get_reference_value(env, ref, &value) != napi_ok) value = nullptr;
    ThrowValue(env, value, "native error");
  } catch (const std::exception& e) {
    ThrowValue(env, nullptr, e.what());
  } catch (...) {
    ThrowValue(env, nullptr, "unexpected native error");
  }
}

void ExportFunction(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb, void* data) {
  napi_value fn;
  napi_status s = napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, data, &fn);
  if (s != napi_ok) throw Napi::Error::New(env, std::string("cannot create ") + name);
  exports.Set(name, Napi::Value(env, fn));
}

}  // namespace netdiag
