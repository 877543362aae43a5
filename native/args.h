// The one argument vocabulary of every native export (sodium-native style): an entry point
// first parses its JS arguments into C types with Args, each read asserting its type and
// range and throwing a TypeError/RangeError that names the argument, then calls the system.
// Reads use plain Node-API calls (one per argument, nothing allocated), so the per-batch
// entry points (datagram_io.cc) can afford them as well as the rare ones.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace netdiag {

class Args {
 public:
  // The most arguments any export takes (sendRecvBatchIn); later ones are not read.
  static constexpr size_t kMax = 6;

  Args(napi_env env, napi_callback_info info);
  explicit Args(const Napi::CallbackInfo& info);

  napi_env env() const { return env_; }
  size_t Length() const { return argc_; }
  // The argument itself (undefined when missing), for what is not a plain value.
  Napi::Value At(size_t i) const;

  int Fd(size_t i) const;
  int32_t Int(size_t i, const char* name) const;
  // undefined or null: dflt
  int32_t IntOr(size_t i, const char* name, int32_t dflt) const;
  uint32_t Uint(size_t i, const char* name) const;
  // undefined: false
  bool Bool(size_t i, const char* name) const;
  std::string String(size_t i, const char* name) const;
  bool IsMissing(size_t i) const;  // not given, undefined or null
  Napi::Function Function(size_t i, const char* name) const;

  // A Buffer (any typed array): its bytes, without a wrapper object.
  template <typename T = uint8_t>
  void Bytes(size_t i, const char* name, T** data, size_t* bytes) const {
    void* p;
    size_t n;
    RawBytes(i, name, &p, &n);
    *data = static_cast<T*>(p);
    *bytes = n;
  }
  // A typed array of exactly type `want` (`what` names it in the error): its elements.
  template <typename T>
  void Typed(size_t i, const char* name, napi_typedarray_type want, const char* what, T** data, size_t* count) const {
    void* p;
    size_t n;
    RawTyped(i, name, want, what, &p, &n);
    *data = static_cast<T*>(p);
    *count = n;
  }
  // The same as node-addon-api objects, for code that keeps or indexes them.
  Napi::Buffer<uint8_t> Buffer(size_t i, const char* name) const;
  Napi::TypedArrayOf<double> Float64Array(size_t i, const char* name) const;
  Napi::TypedArrayOf<int32_t> Int32Array(size_t i, const char* name) const;

  [[noreturn]] void ThrowType(const char* name, const char* expected) const;

 private:
  napi_value Raw(size_t i) const { return i < argc_ ? argv_[i] : nullptr; }
  bool Number(size_t i, double* d) const;
  void RawBytes(size_t i, const char* name, void** data, size_t* bytes) const;
  void RawTyped(size_t i, const char* name, napi_typedarray_type want, const char* what, void** data, size_t* count) const;

  napi_env env_;
  napi_value argv_[kMax];
  size_t argc_ = 0;
};

}  // namespace netdiag
