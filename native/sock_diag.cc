// NETLINK_SOCK_DIAG sockets for the socket lister: open (optionally inside another process's
// network namespace), send a request JS built, and receive the kernel's replies into a JS
// buffer, several datagrams per call. No protocol logic: JS builds the requests and parses
// the nlmsghdr chain (src/sockets/netlink/).
#include <fcntl.h>
#include <pthread.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"
#include "glibc_compat.h"

namespace netdiag {

// The largest datagram a dump sends is one skb of at most 32 KiB (netlink_dump); a receive
// only goes on while this much room is left, so nothing is ever truncated.
static constexpr size_t kDatagramRoom = 64 * 1024;

static int OpenDiagSocket() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
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
  job->result = OpenDiagSocket();
  return nullptr;
}

static int OpenDiagSocketIn(const std::string& nsPath) {
  NamespaceOpen job{&nsPath, -EINVAL};
  pthread_t thread;
  int err = ::pthread_create(&thread, nullptr, OpenInNamespace, &job);
  if (err != 0) return -err;
  ::pthread_join(thread, nullptr);
  return job.result;
}

// sockDiagOpen(nsPath?): a blocking NETLINK_SOCK_DIAG socket owned by this environment.
static Napi::Value SockDiagOpen(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd;
  if (args.IsMissing(0)) {
    fd = OpenDiagSocket();
  } else {
    std::string path = args.String(0, "nsPath");
    if (path.empty() || path.size() > 4096) throw Napi::RangeError::New(env, "argument nsPath must be a path of 1 to 4096 bytes");
    fd = OpenDiagSocketIn(path);
  }
  if (fd < 0) throw ErrnoError(env, -fd, args.IsMissing(0) ? "socket" : "setns");
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

// netlinkReceive(fd, buffer): waits for the first datagram, then takes what else is queued
// (or what the dump makes next) while a whole datagram still fits; returns the bytes written.
// Each datagram is a chain of whole netlink messages.
static Napi::Value NetlinkReceive(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd = args.Fd(0);
  uint8_t* buf;
  size_t size;
  args.Bytes(1, "buffer", &buf, &size);
  if (size < kDatagramRoom) throw Napi::RangeError::New(env, "argument buffer must be at least 65536 bytes");
  size_t used = 0;
  while (size - used >= kDatagramRoom) {
    iovec iov{buf + used, size - used};
    sockaddr_nl from{};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do n = ::recvmsg(fd, &msg, used == 0 ? 0 : MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (used > 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      throw ErrnoError(env, errno, "recvmsg");
    }
    if (msg.msg_flags & MSG_TRUNC) throw ErrnoError(env, EMSGSIZE, "recvmsg");
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  return Napi::Number::New(env, static_cast<double>(used));
}

void InitSockDiag(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "sockDiagOpen", SockDiagOpen);
  NETDIAG_EXPORT(env, exports, "netlinkSend", NetlinkSend);
  NETDIAG_EXPORT(env, exports, "netlinkReceive", NetlinkReceive);
}

}  // namespace netdiag
