#include "args.h"

namespace netdiag {

Args::Args(napi_env env, napi_callback_info info) : env_(env) {
  size_t argc = kMax;
  if (napi_get_cb_info(env, info, &argc, argv_, nullptr, nullptr) != napi_ok) argc = 0;
  argc_ = argc < kMax ? argc : kMax;
}

Args::Args(const Napi::CallbackInfo& info) : env_(info.Env()) {
  argc_ = info.Length() < kMax ? info.Length() : kMax;
  for (size_t i = 0; i < argc_; i++) argv_[i] = info[i];
}

Napi::Value Args::At(size_t i) const {
  napi_value v = Raw(i);
  return v == nullptr ? Napi::Env(env_).Undefined() : Napi::Value(env_, v);
}

void Args::ThrowType(const char* name, const char* expected) const {
  throw Napi::TypeError::New(env_, std::string("argument ") + name + " must be " + expected);
}

bool Args::Number(size_t i, double* d) const {
  napi_value v = Raw(i);
  return v != nullptr && napi_get_value_double(env_, v, d) == napi_ok;
}

bool Args::IsMissing(size_t i) const {
  napi_value v = Raw(i);
  napi_valuetype t;
  return v == nullptr || (napi_typeof(env_, v, &t) == napi_ok && (t == napi_undefined || t == napi_null));
}

int Args::Fd(size_t i) const {
  double d;
  if (!Number(i, &d)) ThrowType("fd", "a file descriptor number");
  if (!(d >= 0 && d <= 0x7fffffff) || d != static_cast<double>(static_cast<int32_t>(d))) {
    throw Napi::RangeError::New(env_, "argument fd must be a non-negative integer");
  }
  return static_cast<int>(d);
}

int32_t Args::Int(size_t i, const char* name) const {
  double d;
  if (!Number(i, &d)) ThrowType(name, "a number");
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int32_t>(d))) {
    throw Napi::RangeError::New(env_, std::string("argument ") + name + " must be a 32-bit integer");
  }
  return static_cast<int32_t>(d);
}

int32_t Args::IntOr(size_t i, const char* name, int32_t dflt) const {
  return IsMissing(i) ? dflt : Int(i, name);
}

uint32_t Args::Uint(size_t i, const char* name) const {
  int32_t v = Int(i, name);
  if (v < 0) throw Napi::RangeError::New(env_, std::string("argument ") + name + " must not be negative");
  return static_cast<uint32_t>(v);
}

bool Args::Bool(size_t i, const char* name) const {
  napi_value v = Raw(i);
  if (v == nullptr) return false;
  bool b;
  if (napi_get_value_bool(env_, v, &b) == napi_ok) return b;
  napi_valuetype t;
  if (napi_typeof(env_, v, &t) == napi_ok && t == napi_undefined) return false;
  ThrowType(name, "a boolean");
}

std::string Args::String(size_t i, const char* name) const {
  napi_value v = Raw(i);
  napi_valuetype t;
  if (v == nullptr || napi_typeof(env_, v, &t) != napi_ok || t != napi_string) ThrowType(name, "a string");
  return Napi::String(env_, v).Utf8Value();
}

static size_t ElementSize(napi_typedarray_type t) {
  switch (t) {
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 1;
  }
}

void Args::RawBytes(size_t i, const char* name, void** data, size_t* bytes) const {
  napi_typedarray_type type;
  size_t length;
  void* p;
  if (Raw(i) == nullptr || napi_get_typedarray_info(env_, Raw(i), &type, &length, &p, nullptr, nullptr) != napi_ok) {
    ThrowType(name, "a Buffer");
  }
  *data = p;
  *bytes = p == nullptr ? 0 : length * ElementSize(type);
}

void Args::RawTyped(size_t i, const char* name, napi_typedarray_type want, const char* what, void** data, size_t* count) const {
  napi_typedarray_type type;
  size_t length;
  void* p;
  if (Raw(i) == nullptr || napi_get_typedarray_info(env_, Raw(i), &type, &length, &p, nullptr, nullptr) != napi_ok ||
      type != want) {
    ThrowType(name, what);
  }
  *data = p;
  *count = p == nullptr ? 0 : length;
}

Napi::Function Args::Function(size_t i, const char* name) const {
  Napi::Value v = At(i);
  if (!v.IsFunction()) ThrowType(name, "a function");
  return v.As<Napi::Function>();
}

Napi::Buffer<uint8_t> Args::Buffer(size_t i, const char* name) const {
  Napi::Value v = At(i);
  if (!v.IsBuffer()) ThrowType(name, "a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

Napi::TypedArrayOf<double> Args::Float64Array(size_t i, const char* name) const {
  Napi::Value v = At(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowType(name, "a Float64Array");
  }
  return v.As<Napi::TypedArrayOf<double>>();
}

Napi::TypedArrayOf<int32_t> Args::Int32Array(size_t i, const char* name) const {
  Napi::Value v = At(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowType(name, "an Int32Array");
  }
  return v.As<Napi::TypedArrayOf<int32_t>>();
}

}  // namespace netdiag
