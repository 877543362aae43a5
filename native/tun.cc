// TUN devices for the test network simulator: open one, read and write whole IP packets
// in batches (a TUN fd is not a socket, so recvmmsg does not apply).
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace netdiag {

// openTun(name?) -> {fd, name}; IFF_TUN | IFF_NO_PI, non-blocking, close-on-exec; close it
// with close(fd).
static Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info.Length() > 0 && !info[0].IsUndefined() ? ArgString(info, 0, "name") : "";
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
  // owned by this environment until close(fd), like a socket (fd_registry.cc)
  OwnFd(GetInstanceData(env), fd);
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("name", std::string(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ)));
  return o;
}

// readPackets(fd, buf, slotSize, max, lengths: Int32Array) -> count (0 when none is ready)
static Napi::Value ReadPackets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Buffer<uint8_t> buf = ArgBuffer(info, 1, "buffer");
  uint32_t slot = ArgUint(info, 2, "slotSize");
  uint32_t max = ArgUint(info, 3, "maxPackets");
  Napi::TypedArrayOf<int32_t> lens = ArgInt32Array(info, 4, "lengths");
  if (slot == 0) throw Napi::RangeError::New(env, "argument slotSize must be positive");
  size_t n = max;
  if (n > buf.Length() / slot) n = buf.Length() / slot;
  if (n > lens.ElementLength()) n = lens.ElementLength();
  size_t i = 0;
  for (; i < n; i++) {
    ssize_t r;
    do r = ::read(fd, buf.Data() + i * slot, slot);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      throw ErrnoError(env, errno, "read");
    }
    lens[i] = static_cast<int32_t>(r);
  }
  return Napi::Number::New(env, static_cast<double>(i));
}

// writePacket(fd, buf, offset, length) -> true when written, false when the queue is full
static Napi::Value WritePacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Buffer<uint8_t> buf = ArgBuffer(info, 1, "buffer");
  uint32_t offset = ArgUint(info, 2, "offset");
  uint32_t length = ArgUint(info, 3, "length");
  if (static_cast<size_t>(offset) + length > buf.Length()) throw Napi::RangeError::New(env, "offset and length lie outside the buffer");
  ssize_t r;
  do r = ::write(fd, buf.Data() + offset, length);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, errno, "write");
  }
  return Napi::Boolean::New(env, true);
}

void InitTun(Napi::Env env, Napi::Object exports) {
  NETDIAG_EXPORT(env, exports, "openTun", OpenTun);
  NETDIAG_EXPORT(env, exports, "readPackets", ReadPackets);
  NETDIAG_EXPORT(env, exports, "writePacket", WritePacket);
}

}  // namespace netdiag
