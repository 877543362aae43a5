// Netlink sockets (NETLINK_SOCK_DIAG for the socket lister, NETLINK_ROUTE for the routing
// table multipath discovery reads): open (optionally inside another process's network
// namespace), send a request JS built, and receive the kernel's replies into a JS buffer,
// several datagrams per call. No protocol logic: JS builds the requests and parses the
// nlmsghdr chain (src/sockets/netlink/, src/netlink-route/).
#include <fcntl.h>
#include <pthread.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "common.h"
#include "glibc_compat.h"

namespace netdiag {

// The largest datagram a dump sends is one skb of at most 32 KiB (netlink_dump); a receive
// only goes on while this much room is left, so nothing is ever truncated.
static constexpr size_t kDatagramRoom = 64 * 1024;

static int OpenNetlinkSocket(int protocol) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -errno;
  // a kernel that stops answering must not hang the caller for good
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int one = 1;
  // the ack of a request carries only the header of what failed
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  return fd;
}

// The socket made inside the network namespace of nsPath (/proc/PID/ns/net): setns applies
// to the calling thread, so a short-lived thread joins the namespace and makes the socket,
// which keeps that namespace for its life. A plain pthread, not std::thread: the static
// libstdc++'s thread start would bind pthread_create to glibc 2.34 (glibc_compat.h).
struct NamespaceOpen {
  const std::string* path;
  int protocol;
  int result;
};

static void* OpenInNamespace(void* arg) noexcept {
  auto* job = static_cast<NamespaceOpen*>(arg);
  int ns = ::open(job->path->c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    job->result = -errno;
    return nullptr;
  }
  if (::setns(ns, CLONE_NEWNET) < 0) {
    job->result = -errno;
    ::close(ns);
    return nullptr;
  }
  ::close(ns);
  job->result = OpenNetlinkSocket(job->protocol);
  return nullptr;
}

static int OpenNetlinkSocketIn(int protocol, const std::string& nsPath) {
  NamespaceOpen job{&nsPath, protocol, -EINVAL};
  pthread_t thread;
  int err = ::pthread_create(&thread, nullptr, OpenInNamespace, &job);
  if (err != 0) return -err;
  ::pthread_join(thread, nullptr);
  return job.result;
}

// netlinkOpen(protocol, nsPath?): a blocking netlink socket of `protocol` (NETLINK_ROUTE or
// NETLINK_SOCK_DIAG, the two JS speaks) owned by this environment.
static Napi::Value NetlinkOpen(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int protocol = args.Int(0, "protocol");
  if (protocol != NETLINK_ROUTE && protocol != NETLINK_SOCK_DIAG) {
    throw Napi::RangeError::New(env, "argument protocol must be NETLINK_ROUTE (0) or NETLINK_SOCK_DIAG (4)");
  }
  int fd;
  if (args.IsMissing(1)) {
    fd = OpenNetlinkSocket(protocol);
  } else {
    std::string path = args.String(1, "nsPath");
    if (path.empty() || path.size() > 4096) throw Napi::RangeError::New(env, "argument nsPath must be a path of 1 to 4096 bytes");
    fd = OpenNetlinkSocketIn(protocol, path);
  }
  if (fd < 0) throw ErrnoError(env, -fd, args.IsMissing(1) ? "socket" : "setns");
  OwnFd(GetInstanceData(env), fd);
  return Napi::Number::New(env, fd);
}

// netlinkSend(fd, message): one request to the kernel.
static Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  uint8_t* data;
  size_t len;
  args.Bytes(1, "message", &data, &len);
  if (len < sizeof(nlmsghdr) || len > 65536) throw Napi::RangeError::New(info.Env(), "argument message must be 16 to 65536 bytes");
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do n = ::sendto(fd, data, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(info.Env(), errno, "sendto");
  return info.Env().Undefined();
}

// Waits for the first datagram, then takes what else is queued (or what the dump makes next)
// while a whole datagram still fits; *used: the bytes written. 0 or an errno (EMSGSIZE: a
// datagram did not fit). Each datagram is a chain of whole netlink messages.
static int ReceiveInto(int fd, uint8_t* buf, size_t size, size_t* used) {
  *used = 0;
  while (size - *used >= kDatagramRoom) {
    iovec iov{buf + *used, size - *used};
    sockaddr_nl from{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do n = ::recvmsg(fd, &msg, *used == 0 ? 0 : MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (*used > 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return errno;
    }
    if (msg.msg_flags & MSG_TRUNC) return EMSGSIZE;
    if (n == 0) break;
    *used += static_cast<size_t>(n);
  }
  return 0;
}

static void ReceiveArgs(const Args& args, Napi::Env env, uint8_t** buf, size_t* size) {
  args.Bytes(1, "buffer", buf, size);
  if (*size < kDatagramRoom) throw Napi::RangeError::New(env, "argument buffer must be at least 65536 bytes");
}

// netlinkReceive(fd, buffer): ReceiveInto on this thread; returns the bytes written.
static Napi::Value NetlinkReceive(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd = args.Fd(0);
  uint8_t* buf;
  size_t size;
  ReceiveArgs(args, env, &buf, &size);
  size_t used;
  int err = ReceiveInto(fd, buf, size, &used);
  if (err != 0) throw ErrnoError(env, err, "recvmsg");
  return Napi::Number::New(env, static_cast<double>(used));
}

// One netlinkReceiveAsync: the kernel does a dump's work inside recvmsg, so receiving on a
// pool thread lets it walk its tables while JS parses the buffer before. The thread reads a
// dup of the descriptor: a close() from JS meanwhile cannot make it read a reused number.
struct AsyncReceive {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref buffer = nullptr;  // keeps the bytes alive until the receive is done
  int fd = -1;
  uint8_t* bytes = nullptr;
  size_t size = 0;
  size_t used = 0;
  int err = 0;
};

static void AsyncReceiveRun(napi_env, void* arg) noexcept {
  auto* job = static_cast<AsyncReceive*>(arg);
  job->err = ReceiveInto(job->fd, job->bytes, job->size, &job->used);
}

static void AsyncReceiveDone(napi_env env, napi_status status, void* arg) noexcept {
  auto* job = static_cast<AsyncReceive*>(arg);
  ::close(job->fd);
  try {
    // in a worker being torn down these fail (no JS can run): the promise stays pending
    Napi::Env e(env);
    if (status == napi_cancelled) job->err = ECANCELED;
    if (job->err == 0) napi_resolve_deferred(env, job->deferred, Napi::Number::New(e, static_cast<double>(job->used)));
    else napi_reject_deferred(env, job->deferred, ErrnoError(e, job->err, "recvmsg").Value());
  } catch (...) {
    // nothing may escape into Node-API
  }
  napi_delete_reference(env, job->buffer);
  napi_delete_async_work(env, job->work);
  delete job;
}

// netlinkReceiveAsync(fd, buffer): netlinkReceive on a thread of the pool; a promise of the
// bytes written. The buffer must be left alone until it settles.
static Napi::Value NetlinkReceiveAsync(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd = args.Fd(0);
  auto job = std::make_unique<AsyncReceive>();
  ReceiveArgs(args, env, &job->bytes, &job->size);
  job->fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (job->fd < 0) throw ErrnoError(env, errno, "fcntl");
  napi_value promise;
  napi_value name = Napi::String::New(env, "netdiag.netlinkReceive");
  if (napi_create_reference(env, info[1], 1, &job->buffer) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, nullptr, name, AsyncReceiveRun, AsyncReceiveDone, job.get(), &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    ::close(job->fd);
    if (job->work != nullptr) napi_delete_async_work(env, job->work);
    if (job->buffer != nullptr) napi_delete_reference(env, job->buffer);
    throw Napi::Error::New(env, "netlinkReceiveAsync: could not queue the receive");
  }
  job.release();  // AsyncReceiveDone frees it
  return Napi::Value(env, promise);
}

void InitSockDiag(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "netlinkOpen", NetlinkOpen);
  NETDIAG_EXPORT(env, exports, "netlinkSend", NetlinkSend);
  NETDIAG_EXPORT(env, exports, "netlinkReceive", NetlinkReceive);
  NETDIAG_EXPORT(env, exports, "netlinkReceiveAsync", NetlinkReceiveAsync);
}

}  // namespace netdiag
