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

static Napi::Value Arg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

static void ThrowType(Napi::Env env, const char* name, const char* expected) {
  throw Napi::TypeError::New(env, std::string("argument ") + name + " must be " + expected);
}

int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) ThrowType(info.Env(), "fd", "a file descriptor number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 0x7fffffff) || d != static_cast<double>(static_cast<int32_t>(d))) {
    throw Napi::RangeError::New(info.Env(), "argument fd must be a non-negative integer");
  }
  return static_cast<int>(d);
}

int32_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsNumber()) ThrowType(info.Env(), name, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int32_t>(d))) {
    throw Napi::RangeError::New(info.Env(), std::string("argument ") + name + " must be a 32-bit integer");
  }
  return static_cast<int32_t>(d);
}

int32_t ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t dflt) {
  Napi::Value v = Arg(info, i);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  return ArgInt(info, i, name);
}

uint32_t ArgUint(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int32_t v = ArgInt(info, i, name);
  if (v < 0) throw Napi::RangeError::New(info.Env(), std::string("argument ") + name + " must not be negative");
  return static_cast<uint32_t>(v);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (v.IsUndefined()) return false;
  if (!v.IsBoolean()) ThrowType(info.Env(), name, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsString()) ThrowType(info.Env(), name, "a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Buffer<uint8_t> ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsBuffer()) ThrowType(info.Env(), name, "a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

Napi::TypedArrayOf<double> ArgFloat64Array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowType(info.Env(), name, "a Float64Array");
  }
  return v.As<Napi::TypedArrayOf<double>>();
}

Napi::TypedArrayOf<int32_t> ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = Arg(info, i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowType(info.Env(), name, "an Int32Array");
  }
  return v.As<Napi::TypedArrayOf<int32_t>>();
}

}  // namespace netdiag
