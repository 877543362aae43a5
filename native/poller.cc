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
                       {InstanceMethod("start", &Poller::Start), InstanceMethod("stop", &Poller::Stop),
                        InstanceMethod("close", &Poller::Close), InstanceMethod("ref", &Poller::RefHandle),
                        InstanceMethod("unref", &Poller::UnrefHandle), InstanceMethod("hasRef", &Poller::HasRef),
                        InstanceAccessor("fd", &Poller::Fd, nullptr),
                        InstanceAccessor("closed", &Poller::Closed, nullptr)});
  }

  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int fd = ArgFd(info, 0);
    if (info.Length() < 2 || !info[1].IsFunction()) throw Napi::TypeError::New(env, "argument callback must be a function");
    InstanceData* data = GetInstanceData(env);
    if (data->cleaning_up) throw Napi::Error::New(env, "the environment is shutting down");
    for (PollHandle* h : data->open_polls) {
      if (h->fd == fd && !h->closing) throw Napi::Error::New(env, "fd " + std::to_string(fd) + " already has a Poller; close it first");
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
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
  void Call(int status, int events) {
    napi_env env = Env();
    Napi::HandleScope scope(Env());
    // keep this object alive across the call even if JS drops every reference
    napi_value self = Value();
    napi_value argv[2];
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
    napi_value result;
    // the C API, not node-addon-api's: a worker terminated while JS runs here leaves a
    // termination instead of an exception, and wrapping that in a Napi::Error aborts
    if (napi_make_callback(env, *context_, self, callback_.Value(), 2, argv, &result) == napi_ok) return;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return;
    napi_value error = nullptr;
    if (napi_get_and_clear_last_exception(env, &error) != napi_ok || error == nullptr) return;
    napi_valuetype type;
    // an exception thrown by the callback is the process's uncaught exception, as for any
    // event emitted from the loop; during termination there is nothing to report
    if (napi_typeof(env, error, &type) == napi_ok && !GetInstanceData(Env())->cleaning_up) napi_fatal_exception(env, error);
  }

  void Pin() {
    if (!pinned_) {
      Ref();
      pinned_ = true;
    }
  }
  void Unpin() {
    if (pinned_) {
      pinned_ = false;
      Unref();
    }
  }

  PollHandle* Live(const Napi::CallbackInfo& info) {
    if (handle_ == nullptr || handle_->closing) throw Napi::Error::New(info.Env(), "the poller is closed");
    return handle_;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    PollHandle* h = Live(info);
    int events = ArgInt(info, 0, "events") & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT);
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
  if (data->cleaning_up && data->open_polls.empty() && data->cleanup_handle != nullptr) {
    napi_async_cleanup_hook_handle ch = data->cleanup_handle;
    data->cleanup_handle = nullptr;
    napi_remove_async_cleanup_hook(ch);
    data->cleanup_done = true;
    ReleaseInstanceData(data);
  }
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

// Environment teardown (process exit, worker end): close every handle, then let Node
// close the loop. Completion is signalled from the last close callback.
static void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* data = static_cast<InstanceData*>(arg);
  data->cleaning_up = true;
  for (PollHandle* h : std::set<PollHandle*>(data->open_polls)) {
    if (h->owner != nullptr) {
      h->owner->Detach();
      h->owner = nullptr;
    }
    ClosePollHandle(h);
  }
  if (data->open_polls.empty()) {
    data->cleanup_handle = nullptr;
    napi_remove_async_cleanup_hook(handle);
    data->cleanup_done = true;
    ReleaseInstanceData(data);
  }
}

void InitPoller(Napi::Env env, Napi::Object exports) {
  InstanceData* data = GetInstanceData(env);
  exports.Set("Poller", Poller::Define(env));
  napi_status s = napi_add_async_cleanup_hook(env, OnEnvCleanup, data, &data->cleanup_handle);
  if (s != napi_ok) throw Napi::Error::New(env, "napi_add_async_cleanup_hook failed");
}

}  // namespace netdiag
