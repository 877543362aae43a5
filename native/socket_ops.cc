// Socket lifecycle and options: socket, bind, connect, listen, accept, names, options,
// classic BPF. Every socket is non-blocking and close-on-exec, and owned by the environment
// that made it (fd_registry.cc) until close(); no protocol logic here.
#include <fcntl.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "poll_handle.h"
#include "sockaddr.h"

namespace netdiag {

static Napi::Value Socket(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int domain = args.Int(0, "domain");
  int type = args.Int(1, "type");
  int protocol = args.IntOr(2, "protocol", 0);
  if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX) {
    throw Napi::RangeError::New(env, "argument domain must be AF_INET, AF_INET6 or AF_UNIX");
  }
  if (type != SOCK_RAW && type != SOCK_DGRAM && type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    throw Napi::RangeError::New(env, "argument type must be SOCK_RAW, SOCK_DGRAM, SOCK_STREAM or SOCK_SEQPACKET");
  }
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw ErrnoError(env, errno, "socket");
  OwnFd(GetInstanceData(env), fd);
  return Napi::Number::New(env, fd);
}

static Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int type = args.Int(0, "type");
  if (type != SOCK_DGRAM && type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    throw Napi::RangeError::New(env, "argument type must be SOCK_DGRAM, SOCK_STREAM or SOCK_SEQPACKET");
  }
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    throw ErrnoError(env, errno, "socketpair");
  }
  OwnFd(GetInstanceData(env), fds[0]);
  OwnFd(GetInstanceData(env), fds[1]);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// close(fd): the one close path (fd_registry.cc): stops polls on fd, forgets it, closes it.
static Napi::Value Close(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int err = CloseOwnedFd(GetInstanceData(info.Env()), fd);
  if (err != 0) throw ErrnoError(info.Env(), err, "close");
  return info.Env().Undefined();
}

// family, address, port, scopeId from argument 1 on
static socklen_t AddressArgs(const Args& args, sockaddr_storage* ss) {
  int family = args.Int(1, "family");
  std::string address = args.String(2, "address");
  uint32_t port = family == 1 ? 0 : args.Uint(3, "port");
  uint32_t scope = family == 6 ? static_cast<uint32_t>(args.IntOr(4, "scopeId", 0)) : 0;
  return ParseSockaddr(Napi::Env(args.env()), family, address, port, scope, ss);
}

static Napi::Value Bind(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  sockaddr_storage ss;
  socklen_t len = AddressArgs(args, &ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) throw ErrnoError(info.Env(), errno, "bind");
  return info.Env().Undefined();
}

// true: connected now; false: in progress (wait for writable, then read SO_ERROR)
static Napi::Value Connect(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  sockaddr_storage ss;
  socklen_t len = AddressArgs(args, &ss);
  int r;
  do r = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EINPROGRESS) return Napi::Boolean::New(info.Env(), false);
    throw ErrnoError(info.Env(), errno, "connect");
  }
  return Napi::Boolean::New(info.Env(), true);
}

// Dissolves a datagram socket's association (connect to AF_UNSPEC).
static Napi::Value Disconnect(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  sockaddr sa{};
  sa.sa_family = AF_UNSPEC;
  if (::connect(fd, &sa, sizeof(sa)) < 0) throw ErrnoError(info.Env(), errno, "connect");
  return info.Env().Undefined();
}

static Napi::Value Listen(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int backlog = args.IntOr(1, "backlog", 511);
  if (::listen(fd, backlog) < 0) throw ErrnoError(info.Env(), errno, "listen");
  return info.Env().Undefined();
}

// Accepts one connection: the new fd, or -1 when none is pending.
static Napi::Value Accept(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int c;
  do c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (c < 0 && errno == EINTR);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return Napi::Number::New(info.Env(), -1);
    throw ErrnoError(info.Env(), errno, "accept4");
  }
  OwnFd(GetInstanceData(info.Env()), c);
  return Napi::Number::New(info.Env(), c);
}

static Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int how = args.Int(1, "how");
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) throw Napi::RangeError::New(info.Env(), "argument how must be SHUT_RD, SHUT_WR or SHUT_RDWR");
  if (::shutdown(fd, how) < 0 && errno != ENOTCONN) throw ErrnoError(info.Env(), errno, "shutdown");
  return info.Env().Undefined();
}

static Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw ErrnoError(info.Env(), errno, "getsockname");
  return SockaddrToObject(info.Env(), &ss, len);
}

static Napi::Value GetPeerName(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) throw ErrnoError(info.Env(), errno, "getpeername");
  return SockaddrToObject(info.Env(), &ss, len);
}

static Napi::Value SetSockOptInt(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int level = args.Int(1, "level");
  int name = args.Int(2, "name");
  int value = args.Int(3, "value");
  if (::setsockopt(fd, level, name, &value, sizeof(value)) < 0) throw ErrnoError(info.Env(), errno, "setsockopt");
  return info.Env().Undefined();
}

static Napi::Value SetSockOptBuffer(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int level = args.Int(1, "level");
  int name = args.Int(2, "name");
  Napi::Buffer<uint8_t> buf = args.Buffer(3, "value");
  if (buf.Length() > 65536) throw Napi::RangeError::New(info.Env(), "argument value must be at most 65536 bytes");
  if (::setsockopt(fd, level, name, buf.Data(), static_cast<socklen_t>(buf.Length())) < 0) {
    throw ErrnoError(info.Env(), errno, "setsockopt");
  }
  return info.Env().Undefined();
}

static Napi::Value GetSockOptInt(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int level = args.Int(1, "level");
  int name = args.Int(2, "name");
  int value = 0;
  socklen_t len = sizeof(value);
  if (::getsockopt(fd, level, name, &value, &len) < 0) throw ErrnoError(info.Env(), errno, "getsockopt");
  return Napi::Number::New(info.Env(), value);
}

static Napi::Value GetSockOptBuffer(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  int level = args.Int(1, "level");
  int name = args.Int(2, "name");
  uint32_t size = args.Uint(3, "size");
  if (size > 65536) throw Napi::RangeError::New(info.Env(), "argument size must be at most 65536");
  std::vector<uint8_t> buf(size);
  socklen_t len = size;
  if (::getsockopt(fd, level, name, buf.data(), &len) < 0) throw ErrnoError(info.Env(), errno, "getsockopt");
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), len < size ? len : size);
}

// Attaches a classic BPF program given as 8-byte sock_filter instructions (host order).
static Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  Napi::Buffer<uint8_t> prog = args.Buffer(1, "program");
  if (prog.Length() == 0 || prog.Length() % sizeof(sock_filter) != 0 || prog.Length() / sizeof(sock_filter) > BPF_MAXINSNS) {
    throw Napi::RangeError::New(info.Env(), "argument program must hold 1 to 4096 eight-byte BPF instructions");
  }
  std::vector<sock_filter> insns(prog.Length() / sizeof(sock_filter));
  std::memcpy(insns.data(), prog.Data(), prog.Length());
  sock_fprog fprog{static_cast<unsigned short>(insns.size()), insns.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
    throw ErrnoError(info.Env(), errno, "setsockopt(SO_ATTACH_FILTER)");
  }
  return info.Env().Undefined();
}

// Whether fd is open (F_GETFD): lets JS check before it polls or closes.
static Napi::Value IsOpen(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  return Napi::Boolean::New(info.Env(), ::fcntl(fd, F_GETFD) != -1);
}

void InitSocketOps(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "socket", Socket);
  NETDIAG_EXPORT(env, exports, "socketpair", SocketPair);
  NETDIAG_EXPORT(env, exports, "close", Close);
  NETDIAG_EXPORT(env, exports, "bind", Bind);
  NETDIAG_EXPORT(env, exports, "connect", Connect);
  NETDIAG_EXPORT(env, exports, "disconnect", Disconnect);
  NETDIAG_EXPORT(env, exports, "listen", Listen);
  NETDIAG_EXPORT(env, exports, "accept", Accept);
  NETDIAG_EXPORT(env, exports, "shutdown", Shutdown);
  NETDIAG_EXPORT(env, exports, "getsockname", GetSockName);
  NETDIAG_EXPORT(env, exports, "getpeername", GetPeerName);
  NETDIAG_EXPORT(env, exports, "setsockoptInt", SetSockOptInt);
  NETDIAG_EXPORT(env, exports, "setsockoptBuffer", SetSockOptBuffer);
  NETDIAG_EXPORT(env, exports, "getsockoptInt", GetSockOptInt);
  NETDIAG_EXPORT(env, exports, "getsockoptBuffer", GetSockOptBuffer);
  NETDIAG_EXPORT(env, exports, "attachFilter", AttachFilter);
  NETDIAG_EXPORT(env, exports, "isOpen", IsOpen);
}

}  // namespace netdiag
