// TUN devices for the test network simulator: open one, read and write whole IP packets
// in batches (a TUN fd is not a socket, so recvmmsg does not apply). Built into the test
// addon only (native/testing/addon.cc), never into the shipped netdiag.node.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../common.h"

namespace netdiag {

// openTun(name | undefined, adopt: (fd) => void) -> {fd, name}; IFF_TUN | IFF_NO_PI,
// non-blocking, close-on-exec.
// The fd goes to `adopt` before this returns: the caller hands it to the main addon's
// descriptor registry (adoptFd), so the main addon's close(fd) is its one close path and its
// environment's teardown closes it. This addon keeps no registry of its own, which would
// close the number a second time at teardown after close(fd) had already closed it. Should
// adopt throw (a terminating worker), nobody owns the fd yet, and it is closed here.
static Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  std::string name = args.IsMissing(0) ? "" : args.String(0, "name");
  Napi::Function adopt = args.Function(1, "adopt");
  if (name.size() >= IFNAMSIZ) throw Napi::RangeError::New(env, "argument name must be shorter than 16 bytes");
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, errno, "open(/dev/net/tun)");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    ::close(fd);
    throw ErrnoError(env, e, "ioctl(TUNSETIFF)");
  }
  try {
    adopt.Call({Napi::Number::New(env, fd)});
  } catch (...) {
    ::close(fd);
    throw;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("name", std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  return o;
}

// One read() or write() of a whole packet, retried on EINTR: its result, 0 when the device
// is not ready (EAGAIN), or a thrown errno error.
template <typename Io>
static ssize_t PacketIo(Napi::Env env, const char* syscall, Io io) {
  ssize_t r;
  do r = io();
  while (r < 0 && errno == EINTR);
  if (r >= 0) return r;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
  throw ErrnoError(env, errno, syscall);
}

// readPackets(fd, buf, slotSize, max, lengths: Int32Array) -> count (0 when none is ready)
static Napi::Value ReadPackets(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  Napi::Buffer<uint8_t> buf = args.Buffer(1, "buffer");
  uint32_t slot = args.Uint(2, "slotSize");
  uint32_t max = args.Uint(3, "maxPackets");
  Napi::TypedArrayOf<int32_t> lens = args.Int32Array(4, "lengths");
  if (slot == 0) throw Napi::RangeError::New(info.Env(), "argument slotSize must be positive");
  size_t n = max;
  if (n > buf.Length() / slot) n = buf.Length() / slot;
  if (n > lens.ElementLength()) n = lens.ElementLength();
  size_t i = 0;
  for (; i < n; i++) {
    uint8_t* into = buf.Data() + i * slot;
    ssize_t r = PacketIo(info.Env(), "read", [&] { return ::read(fd, into, slot); });
    if (r < 0) break;
    lens[i] = static_cast<int32_t>(r);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(i));
}

// writePacket(fd, buf, offset, length) -> true when written, false when the queue is full
static Napi::Value WritePacket(const Napi::CallbackInfo& info) {
  const Args args(info);
  int fd = args.Fd(0);
  Napi::Buffer<uint8_t> buf = args.Buffer(1, "buffer");
  uint32_t offset = args.Uint(2, "offset");
  uint32_t length = args.Uint(3, "length");
  if (static_cast<size_t>(offset) + length > buf.Length()) {
    throw Napi::RangeError::New(info.Env(), "offset and length lie outside the buffer");
  }
  const uint8_t* from = buf.Data() + offset;
  ssize_t r = PacketIo(info.Env(), "write", [&] { return ::write(fd, from, length); });
  return Napi::Boolean::New(info.Env(), r >= 0);
}

void InitTun(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "openTun", OpenTun);
  NETDIAG_EXPORT(env, exports, "readPackets", ReadPackets);
  NETDIAG_EXPORT(env, exports, "writePacket", WritePacket);
}

}  // namespace netdiag
