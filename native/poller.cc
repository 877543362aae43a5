// Poller: readiness of one fd through uv_poll on the environment's loop. The callback gets
// (status, events); events: 1 readable, 2 writable, 4 hang-up, 16 error queue/POLLERR.
#include <fcntl.h>

#include <memory>

#include "common.h"
#include "poll_handle.h"

namespace netdiag {

static constexpr int kEventError = 16;

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod("start", &Poller::Guard<&Poller::Start>),
                        InstanceMethod("stop", &Poller::Guard<&Poller::Stop>),
                        InstanceMethod("close", &Poller::Guard<&Poller::Close>),
                        InstanceMethod("ref", &Poller::Guard<&Poller::RefHandle>),
                        InstanceMethod("unref", &Poller::Guard<&Poller::UnrefHandle>),
                        InstanceMethod("hasRef", &Poller::Guard<&Poller::HasRef>),
                        InstanceAccessor("fd", &Poller::Guard<&Poller::Fd>, nullptr),
                        InstanceAccessor("closed", &Poller::Guard<&Poller::Closed>, nullptr)});
  }

  // A method whose C++ exceptions become JS exceptions here, not in node-addon-api's
  // wrapper (which throws again when the environment is terminating).
  template <Napi::Value (Poller::*M)(const Napi::CallbackInfo&)>
  Napi::Value Guard(const Napi::CallbackInfo& info) {
    try {
      return (this->*M)(info);
    } catch (...) {
      ThrowCaughtAsJs(info.Env());
    }
    return Napi::Value();
  }

  // A constructor that throws would unwind through node-addon-api's wrapper; instead the
  // error becomes the JS exception of `new` (the object stays closed and is collected).
  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    try {
      Open(info);
    } catch (...) {
      ThrowCaughtAsJs(info.Env());
    }
  }

  void Open(const Napi::CallbackInfo& info) {
    const Args args(info);
    Napi::Env env = info.Env();
    int fd = args.Fd(0);
    Napi::Function callback = args.Function(1, "callback");
    InstanceData* data = GetInstanceData(env);
    if (data->cleaning_up) throw Napi::Error::New(env, "the environment is shutting down");
    for (PollHandle* h : data->open_polls) {
      if (h->fd == fd && !h->closing) throw Napi::Error::New(env, "fd " + std::to_string(fd) + " already has a Poller; close it first");
    }
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, "netdiag:poll", info.This().As<Napi::Object>());
    auto* h = new PollHandle();
    h->fd = fd;
    h->owner = this;
    h->data = data;
    int r = uv_poll_init_socket(data->loop, &h->uv, fd);
    if (r != 0) {
      delete h;
      throw ErrnoError(env, -r, "uv_poll_init");
    }
    h->uv.data = h;
    data->open_polls.insert(h);
    handle_ = h;
  }

  ~Poller() override {
    if (handle_ != nullptr) {
      handle_->owner = nullptr;
      ClosePollHandle(handle_);
      handle_ = nullptr;
    }
  }

  // Called by the loop; also used by the env cleanup to detach.
  void Detach() {
    handle_ = nullptr;
    Unpin();
  }

  static void OnPoll(uv_poll_t* uvh, int status, int events) {
    auto* h = static_cast<PollHandle*>(uvh->data);
    if (h == nullptr || h->owner == nullptr || h->closing) return;
    Poller* self = h->owner;
    int report = events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
    bool restart = false;
    if (status == UV_EBADF && ::fcntl(h->fd, F_GETFD) != -1) {
      // libuv stops the handle on POLLERR and says EBADF; the fd is fine: the error
      // queue (or sk_err) has something. Report it and poll again after JS ran.
      status = 0;
      report = kEventError | (h->events & (UV_READABLE | UV_WRITABLE));
      restart = true;
    }
    if (status != 0 && h->active) {
      // libuv stopped the handle for good (a real error): let the JS object be collected
      h->active = false;
      self->Unpin();
    }
    self->Call(status, report);
    // JS may have stopped or closed the poller: re-check before touching the handle
    if (restart && h->owner == self && !h->closing && h->active) {
      int r = uv_poll_start(&h->uv, h->events, OnPoll);
      if (r != 0) {
        h->active = false;
        self->Unpin();
        self->Call(r, 0);
      }
    }
  }

 private:
  // Only the C API here: this runs from the loop, where no C++ exception may be thrown, and
  // a worker terminated while JS runs leaves a termination instead of an exception.
  void Call(int status, int events) {
    napi_env env = Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    CallInScope(env, status, events);
    napi_close_handle_scope(env, scope);
  }

  void CallInScope(napi_env env, int status, int events) {
    // keep this object alive across the call even if JS drops every reference
    napi_value self, callback;
    if (napi_get_reference_value(env, static_cast<napi_ref>(*this), &self) != napi_ok || self == nullptr) return;
    if (napi_get_reference_value(env, static_cast<napi_ref>(callback_), &callback) != napi_ok || callback == nullptr) return;
    napi_value argv[2];
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    napi_value result;
    if (napi_make_callback(env, *context_, self, callback, 2, argv, &result) == napi_ok) return;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
    napi_value error = nullptr;
    if (napi_get_and_clear_last_exception(env, &error) != napi_ok || error == nullptr) return;
    napi_valuetype type;
    // an exception thrown by the callback is the process's uncaught exception, as for any
    // event emitted from the loop; during termination there is nothing to report
    if (napi_typeof(env, error, &type) == napi_ok && !GetInstanceData(Env())->cleaning_up) napi_fatal_exception(env, error);
  }

  // A strong reference to the JS object while polling (the C API: Unpin also runs from the
  // loop and from the environment's teardown, where nothing may throw).
  void Pin() {
    uint32_t count;
    if (!pinned_ && napi_reference_ref(Env(), static_cast<napi_ref>(*this), &count) == napi_ok) pinned_ = true;
  }
  void Unpin() {
    uint32_t count;
    if (pinned_) {
      pinned_ = false;
      napi_reference_unref(Env(), static_cast<napi_ref>(*this), &count);
    }
  }

  PollHandle* Live(const Napi::CallbackInfo& info) {
    if (handle_ == nullptr || handle_->closing) throw Napi::Error::New(info.Env(), "the poller is closed");
    return handle_;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    const Args args(info);
    PollHandle* h = Live(info);
    int events = args.Int(0, "events") & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
    if (events == 0) throw Napi::RangeError::New(info.Env(), "argument events must include readable (1), writable (2) or hang-up (4)");
    // a closed fd under an active poll makes libuv abort: refuse instead
    if (::fcntl(h->fd, F_GETFD) == -1) throw ErrnoError(info.Env(), EBADF, "uv_poll_start");
    int r = uv_poll_start(&h->uv, events, OnPoll);
    if (r != 0) throw ErrnoError(info.Env(), -r, "uv_poll_start");
    h->events = events;
    h->active = true;
    Pin();
    return info.Env().Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr && !handle_->closing && handle_->active) {
      uv_poll_stop(&handle_->uv);
      handle_->active = false;
    }
    Unpin();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) {
      handle_->owner = nullptr;
      ClosePollHandle(handle_);
      handle_ = nullptr;
    }
    Unpin();
    return info.Env().Undefined();
  }

  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr && !handle_->closing) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->uv));
    return info.Env().Undefined();
  }
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr && !handle_->closing) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->uv));
    return info.Env().Undefined();
  }
  Napi::Value HasRef(const Napi::CallbackInfo& info) {
    bool r = handle_ != nullptr && !handle_->closing && uv_has_ref(reinterpret_cast<uv_handle_t*>(&handle_->uv));
    return Napi::Boolean::New(info.Env(), r);
  }
  Napi::Value Fd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), handle_ != nullptr ? handle_->fd : -1);
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), handle_ == nullptr || handle_->closing);
  }

  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  PollHandle* handle_ = nullptr;
  bool pinned_ = false;
};

static void OnClosed(uv_handle_t* uvh) {
  auto* h = static_cast<PollHandle*>(uvh->data);
  InstanceData* data = h->data;
  data->open_polls.erase(h);
  delete h;
  FinishEnvCleanupIfDone(data);
}

void ClosePollHandle(PollHandle* h) {
  if (h->closing) return;
  h->closing = true;
  h->active = false;
  uv_poll_stop(&h->uv);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->uv), OnClosed);
}

void StopPollsOnFd(InstanceData* data, int fd) {
  if (data == nullptr) return;
  for (PollHandle* h : data->open_polls) {
    if (h->fd == fd && !h->closing && h->active) {
      uv_poll_stop(&h->uv);
      h->active = false;
    }
  }
}

// Environment teardown: detach every Poller from its handle and close the handles; memory is
// freed in the close callbacks, the last of which ends the cleanup.
void CloseAllPolls(InstanceData* data) {
  for (PollHandle* h : std::set<PollHandle*>(data->open_polls)) {
    if (h->owner != nullptr) {
      h->owner->Detach();
      h->owner = nullptr;
    }
    ClosePollHandle(h);
  }
}

void InitPoller(Napi::Env env, Napi::Object exports) {
  exports.Set("Poller", Poller::Define(env));
}

}  // namespace netdiag
