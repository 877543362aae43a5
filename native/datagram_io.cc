// Batched datagram I/O for ICMP, UDP and raw TCP sockets.
//   recvBatch: recvmmsg into JS-owned slots; per message the length, flags, kernel receive
//              time (SO_TIMESTAMPNS), TTL/hop limit, TOS/traffic class, source, and for the
//              error queue the sock_extended_err fields and the offender.
//   sendBatch: one sendmsg per message with per-message TTL/TOS as ancillary data; the send
//              time is taken right before each sendmsg, so RTTs never depend on JS timing.
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <time.h>
#include <linux/errqueue.h>

#include "common.h"
#include "sockaddr.h"

namespace netdiag {

constexpr size_t kMetaStride = 16;
constexpr size_t kAddrStride = 32;
constexpr size_t kSendDescStride = 8;
constexpr size_t kSendOutStride = 3;
constexpr unsigned kMaxBatch = 1024;
constexpr size_t kControlSize = 512;

enum Meta {
  kLength = 0, kFlags, kTsSec, kTsNsec, kTtl, kTos, kFamily, kPort, kScope,
  kEeErrno, kEeOrigin, kEeType, kEeCode, kEeInfo, kEeData, kOffenderFamily
};

struct RecvScratch {
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;
  std::vector<char> control;
};

static void DecodeControl(msghdr* mh, double* m, uint8_t* addr) {
  for (cmsghdr* c = CMSG_FIRSTHDR(mh); c != nullptr; c = CMSG_NXTHDR(mh, c)) {
    const unsigned char* d = CMSG_DATA(c);
    size_t dlen = c->cmsg_len - CMSG_LEN(0);
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS && dlen >= sizeof(timespec)) {
      timespec ts;
      std::memcpy(&ts, d, sizeof(ts));
      m[kTsSec] = static_cast<double>(ts.tv_sec);
      m[kTsNsec] = static_cast<double>(ts.tv_nsec);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL && dlen >= sizeof(int)) {
      int v;
      std::memcpy(&v, d, sizeof(v));
      m[kTtl] = v;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && dlen >= 1) {
      m[kTos] = d[0];
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT && dlen >= sizeof(int)) {
      int v;
      std::memcpy(&v, d, sizeof(v));
      m[kTtl] = v;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS && dlen >= sizeof(int)) {
      int v;
      std::memcpy(&v, d, sizeof(v));
      m[kTos] = v;
    } else if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
               dlen >= sizeof(sock_extended_err)) {
      sock_extended_err ee;
      std::memcpy(&ee, d, sizeof(ee));
      m[kEeErrno] = ee.ee_errno;
      m[kEeOrigin] = ee.ee_origin;
      m[kEeType] = ee.ee_type;
      m[kEeCode] = ee.ee_code;
      m[kEeInfo] = ee.ee_info;
      m[kEeData] = ee.ee_data;
      // the offender address follows the struct (SO_EE_OFFENDER)
      size_t off_len = dlen - sizeof(sock_extended_err);
      if (off_len >= sizeof(sa_family_t)) {
        sockaddr_storage off{};
        std::memcpy(&off, d + sizeof(sock_extended_err), off_len < sizeof(off) ? off_len : sizeof(off));
        int fam, port;
        uint32_t scope;
        SockaddrToRaw(&off, addr + 16, &fam, &port, &scope);
        m[kOffenderFamily] = fam;
      }
    }
  }
}

// recvBatch(fd, buf, slotSize, max, meta: Float64Array, addrs: Buffer, errqueue) -> count
static Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Buffer<uint8_t> buf = ArgBuffer(info, 1, "buffer");
  uint32_t slot = ArgUint(info, 2, "slotSize");
  uint32_t max = ArgUint(info, 3, "maxMessages");
  Napi::TypedArrayOf<double> meta = ArgFloat64Array(info, 4, "meta");
  Napi::Buffer<uint8_t> addrs = ArgBuffer(info, 5, "addresses");
  bool errqueue = ArgBool(info, 6, "errqueue");
  if (slot == 0) throw Napi::RangeError::New(env, "argument slotSize must be positive");
  size_t n = max;
  if (n > kMaxBatch) n = kMaxBatch;
  if (n > buf.Length() / slot) n = buf.Length() / slot;
  if (n > meta.ElementLength() / kMetaStride) n = meta.ElementLength() / kMetaStride;
  if (n > addrs.Length() / kAddrStride) n = addrs.Length() / kAddrStride;
  if (n == 0) throw Napi::RangeError::New(env, "buffers hold no message slot (check slotSize, meta and addresses sizes)");

  thread_local RecvScratch s;
  s.msgs.resize(n);
  s.iovs.resize(n);
  s.names.resize(n);
  s.control.resize(n * kControlSize);
  for (size_t i = 0; i < n; i++) {
    s.iovs[i].iov_base = buf.Data() + i * slot;
    s.iovs[i].iov_len = slot;
    msghdr& mh = s.msgs[i].msg_hdr;
    std::memset(&mh, 0, sizeof(mh));
    mh.msg_name = &s.names[i];
    mh.msg_namelen = sizeof(sockaddr_storage);
    mh.msg_iov = &s.iovs[i];
    mh.msg_iovlen = 1;
    mh.msg_control = s.control.data() + i * kControlSize;
    mh.msg_controllen = kControlSize;
    s.msgs[i].msg_len = 0;
  }
  int flags = MSG_DONTWAIT | MSG_TRUNC | (errqueue ? MSG_ERRQUEUE : 0);
  int got;
  do got = recvmmsg(fd, s.msgs.data(), static_cast<unsigned>(n), flags, nullptr);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
    throw ErrnoError(env, errno, errqueue ? "recvmmsg(MSG_ERRQUEUE)" : "recvmmsg");
  }
  double* m0 = meta.Data();
  for (int i = 0; i < got; i++) {
    double* m = m0 + i * kMetaStride;
    uint8_t* addr = addrs.Data() + i * kAddrStride;
    for (size_t k = 0; k < kMetaStride; k++) m[k] = 0;
    m[kTsSec] = -1;
    m[kTsNsec] = -1;
    m[kTtl] = -1;
    m[kTos] = -1;
    msghdr& mh = s.msgs[i].msg_hdr;
    m[kLength] = s.msgs[i].msg_len;
    m[kFlags] = ((mh.msg_flags & MSG_TRUNC) ? 1 : 0) | ((mh.msg_flags & MSG_CTRUNC) ? 2 : 0);
    int fam = 0, port = 0;
    uint32_t scope = 0;
    if (mh.msg_namelen > 0) {
      SockaddrToRaw(&s.names[i], addr, &fam, &port, &scope);
    } else {
      std::memset(addr, 0, 16);
    }
    std::memset(addr + 16, 0, 16);
    m[kFamily] = fam;
    m[kPort] = port;
    m[kScope] = scope;
    DecodeControl(&mh, m, addr);
  }
  return Napi::Number::New(env, got);
}

static int SocketDomain(int fd) {
  int domain = 0;
  socklen_t len = sizeof(domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) return 0;
  return domain;
}

// sendBatch(fd, data, desc: Int32Array, addrs: Buffer, count, out: Float64Array) -> processed
// desc per message: [offset, length, family (4/6, 0 = connected), port, ttl|-1, tos|-1, scopeId, 0]
// out per message: [sec, nsec, errno]. Stops at EAGAIN/ENOBUFS, leaving that message unsent.
static Napi::Value SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  Napi::Buffer<uint8_t> data = ArgBuffer(info, 1, "data");
  Napi::TypedArrayOf<int32_t> desc = ArgInt32Array(info, 2, "descriptors");
  Napi::Buffer<uint8_t> addrs = ArgBuffer(info, 3, "addresses");
  uint32_t count = ArgUint(info, 4, "count");
  Napi::TypedArrayOf<double> out = ArgFloat64Array(info, 5, "out");
  if (count > desc.ElementLength() / kSendDescStride || count > out.ElementLength() / kSendOutStride) {
    throw Napi::RangeError::New(env, "argument count exceeds the descriptor or output arrays");
  }
  // check every descriptor before sending anything, so an error never leaves a batch half sent
  for (uint32_t k = 0; k < count; k++) {
    const int32_t* d = desc.Data() + k * kSendDescStride;
    auto which = [k] { return "message " + std::to_string(k); };
    if (d[0] < 0 || d[1] < 0 || static_cast<size_t>(d[0]) + static_cast<size_t>(d[1]) > data.Length()) {
      throw Napi::RangeError::New(env, which() + " lies outside the data buffer");
    }
    if (d[2] != 0 && d[2] != 4 && d[2] != 6) throw Napi::RangeError::New(env, which() + " has a family other than 4, 6 or 0");
    if (d[2] != 0 && (k + 1) * 16 > addrs.Length()) throw Napi::RangeError::New(env, "argument addresses is too short for count");
    if (d[3] < 0 || d[3] > 65535) throw Napi::RangeError::New(env, which() + " has a port outside 0-65535");
    if (d[4] > 255 || d[5] > 255) throw Napi::RangeError::New(env, which() + ": ttl and tos must be from 0 to 255");
  }
  int domain = -1;
  uint32_t i = 0;
  for (; i < count; i++) {
    const int32_t* d = desc.Data() + i * kSendDescStride;
    double* o = out.Data() + i * kSendOutStride;
    int32_t offset = d[0], length = d[1], family = d[2], port = d[3], ttl = d[4], tos = d[5];
    sockaddr_storage ss;
    socklen_t sslen = 0;
    if (family == 4 || family == 6) {
      sslen = RawToSockaddr(family, addrs.Data() + i * 16, port, static_cast<uint32_t>(d[6]), &ss);
    }
    iovec iov{data.Data() + offset, static_cast<size_t>(length)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 2];
    msghdr mh{};
    mh.msg_name = sslen ? &ss : nullptr;
    mh.msg_namelen = sslen;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (ttl >= 0 || tos >= 0) {
      int v6 = family == 6;
      if (family == 0) {
        if (domain < 0) domain = SocketDomain(fd);
        v6 = domain == AF_INET6;
      }
      mh.msg_control = control;
      mh.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&mh);
      size_t used = 0;
      if (ttl >= 0) {
        c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
        c->cmsg_type = v6 ? IPV6_HOPLIMIT : IP_TTL;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &ttl, sizeof(int));
        used += CMSG_SPACE(sizeof(int));
        c = CMSG_NXTHDR(&mh, c);
      }
      if (tos >= 0) {
        c->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
        c->cmsg_type = v6 ? IPV6_TCLASS : IP_TOS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &tos, sizeof(int));
        used += CMSG_SPACE(sizeof(int));
      }
      mh.msg_controllen = used;
    }
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ssize_t r;
    do r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    o[0] = static_cast<double>(ts.tv_sec);
    o[1] = static_cast<double>(ts.tv_nsec);
    o[2] = r < 0 ? errno : 0;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) break;
  }
  return Napi::Number::New(env, i);
}

// clockRealtime(out: Float64Array) writes [sec, nsec] of CLOCK_REALTIME, the clock of
// SO_TIMESTAMPNS and of sendBatch's send times.
static Napi::Value ClockRealtime(const Napi::CallbackInfo& info) {
  Napi::TypedArrayOf<double> out = ArgFloat64Array(info, 0, "out");
  if (out.ElementLength() < 2) throw Napi::RangeError::New(info.Env(), "argument out needs 2 elements");
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  out[0] = static_cast<double>(ts.tv_sec);
  out[1] = static_cast<double>(ts.tv_nsec);
  return info.Env().Undefined();
}

void InitDatagramIo(Napi::Env env, Napi::Object exports) {
  exports.Set("recvBatch", Napi::Function::New(env, RecvBatch, "recvBatch"));
  exports.Set("sendBatch", Napi::Function::New(env, SendBatch, "sendBatch"));
  exports.Set("clockRealtime", Napi::Function::New(env, ClockRealtime, "clockRealtime"));
}

}  // namespace netdiag
