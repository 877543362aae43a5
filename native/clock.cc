// The clock of kernel timestamps: SO_TIMESTAMPNS receive times and sendBatchIn's send times
// are CLOCK_REALTIME, and JS needs "now" on the same clock to age them (Date.now() has only
// milliseconds).
#include <time.h>

#include "common.h"

namespace netdiag {

// clockRealtime(out: Float64Array) writes [sec, nsec] of CLOCK_REALTIME.
static Napi::Value ClockRealtime(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::TypedArrayOf<double> out = args.Float64Array(0, "out");
  if (out.ElementLength() < 2) throw Napi::RangeError::New(info.Env(), "argument out needs 2 elements");
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  out[0] = static_cast<double>(ts.tv_sec);
  out[1] = static_cast<double>(ts.tv_nsec);
  return info.Env().Undefined();
}

void InitClock(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "clockRealtime", ClockRealtime);
}

}  // namespace netdiag
