// Batched datagram I/O for ICMP, UDP and raw TCP sockets.
//   recvBatch: recvmmsg into JS-owned slots; per message the length, flags, kernel receive
//              time (SO_TIMESTAMPNS), TTL/hop limit, TOS/traffic class, source, and for the
//              error queue the sock_extended_err fields and the offender.
//   sendBatch: one sendmsg per message with per-message TTL/TOS as ancillary data; the send
//              time is taken right before each sendmsg, so RTTs never depend on JS timing.
//   sendRecvBatch: sendBatch, then recvBatch of what is queued, in one crossing (on loopback
//              and fast links the answers to a batch are queued before its last sendmsg returns).
// These run once per batch, often once per packet in a flood, so they take their Args
// directly (Entry: no CallbackInfo object) and the recvmmsg headers are set up once and only
// refreshed where the kernel wrote to them.
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

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

static napi_value Int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

// ---------------------------------------------------------------------------------------------
// receiving

struct RecvArgs {
  uint8_t* buf;
  size_t bufBytes;
  uint32_t slot;
  uint32_t max;
  double* meta;
  size_t metaCount;
  uint8_t* addrs;
  size_t addrsBytes;
};

// Reads buffer, slotSize, maxMessages, meta, addresses from argument `first` on.
static RecvArgs ReadRecvArgs(const Args& a, size_t first) {
  RecvArgs r;
  a.Bytes(first, "buffer", &r.buf, &r.bufBytes);
  r.slot = a.Uint(first + 1, "slotSize");
  r.max = a.Uint(first + 2, "maxMessages");
  a.Typed(first + 3, "meta", napi_float64_array, "a Float64Array", &r.meta, &r.metaCount);
  a.Bytes(first + 4, "addresses", &r.addrs, &r.addrsBytes);
  if (r.slot == 0) throw Napi::RangeError::New(a.env(), "argument slotSize must be positive");
  return r;
}

// How many messages the buffers hold room for (at most max); 0 = none.
static size_t RecvCapacity(const RecvArgs& r) {
  size_t n = r.max;
  if (n > kMaxBatch) n = kMaxBatch;
  if (n > r.bufBytes / r.slot) n = r.bufBytes / r.slot;
  if (n > r.metaCount / kMetaStride) n = r.metaCount / kMetaStride;
  if (n > r.addrsBytes / kAddrStride) n = r.addrsBytes / kAddrStride;
  return n;
}

// The recvmmsg headers of this thread, kept between calls: entries [0, ready) point into
// `buf` with `slot`-byte slots; the kernel changes only the lengths of the entries it filled.
struct RecvScratch {
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;
  std::vector<char> control;
  const uint8_t* buf = nullptr;
  uint32_t slot = 0;
  size_t ready = 0;
  size_t dirty = 0;

  void Prepare(uint8_t* b, uint32_t s, size_t n) {
    if (n > msgs.size()) {
      msgs.resize(n);
      iovs.resize(n);
      names.resize(n);
      control.resize(n * kControlSize);
      ready = 0;
    }
    if (b != buf || s != slot) {
      buf = b;
      slot = s;
      ready = 0;
    }
    if (dirty > ready) dirty = ready;
    for (size_t i = 0; i < dirty; i++) {
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs[i].msg_hdr.msg_controllen = kControlSize;
    }
    for (size_t i = ready; i < n; i++) {
      iovs[i].iov_base = b + i * s;
      iovs[i].iov_len = s;
      msghdr& mh = msgs[i].msg_hdr;
      std::memset(&mh, 0, sizeof(mh));
      mh.msg_name = &names[i];
      mh.msg_namelen = sizeof(sockaddr_storage);
      mh.msg_iov = &iovs[i];
      mh.msg_iovlen = 1;
      mh.msg_control = control.data() + i * kControlSize;
      mh.msg_controllen = kControlSize;
      msgs[i].msg_len = 0;
    }
    if (n > ready) ready = n;
    dirty = 0;
  }
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

// recvmmsg of up to n (>= 1) messages into r; the count, or -errno (EAGAIN: 0).
static int Receive(int fd, const RecvArgs& r, size_t n, bool errqueue) {
  thread_local RecvScratch s;
  s.Prepare(r.buf, r.slot, n);
  int flags = MSG_DONTWAIT | MSG_TRUNC | (errqueue ? MSG_ERRQUEUE : 0);
  int got;
  do got = recvmmsg(fd, s.msgs.data(), static_cast<unsigned>(n), flags, nullptr);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    int err = errno;
    s.dirty = 1;
    return err == EAGAIN || err == EWOULDBLOCK ? 0 : -err;
  }
  s.dirty = static_cast<size_t>(got);
  for (int i = 0; i < got; i++) {
    double* m = r.meta + i * kMetaStride;
    uint8_t* addr = r.addrs + i * kAddrStride;
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
  return got;
}

// recvBatch(fd, buf, slotSize, max, meta: Float64Array, addrs: Buffer, errqueue) -> count
static napi_value RecvBatch(const Args& a) {
  int fd = a.Fd(0);
  RecvArgs r = ReadRecvArgs(a, 1);
  bool errqueue = a.Bool(6, "errqueue");
  size_t n = RecvCapacity(r);
  if (n == 0) throw Napi::RangeError::New(a.env(), "buffers hold no message slot (check slotSize, meta and addresses sizes)");
  int got = Receive(fd, r, n, errqueue);
  if (got < 0) throw ErrnoError(a.env(), -got, errqueue ? "recvmmsg(MSG_ERRQUEUE)" : "recvmmsg");
  return Int(a.env(), got);
}

// ---------------------------------------------------------------------------------------------
// sending

static int SocketDomain(int fd) {
  int domain = 0;
  socklen_t len = sizeof(domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) return 0;
  return domain;
}

struct SendArgs {
  uint8_t* data;
  size_t dataBytes;
  int32_t* desc;
  size_t descCount;
  uint8_t* addrs;
  size_t addrsBytes;
  uint32_t count;
  double* out;
  size_t outCount;
};

// Reads data, descriptors, addresses, count, out from argument 1 on and checks every
// descriptor, so that an error never leaves a batch half sent.
static SendArgs ReadSendArgs(const Args& a) {
  Napi::Env env(a.env());
  SendArgs s;
  a.Bytes(1, "data", &s.data, &s.dataBytes);
  a.Typed(2, "descriptors", napi_int32_array, "an Int32Array", &s.desc, &s.descCount);
  a.Bytes(3, "addresses", &s.addrs, &s.addrsBytes);
  s.count = a.Uint(4, "count");
  a.Typed(5, "out", napi_float64_array, "a Float64Array", &s.out, &s.outCount);
  if (s.count > s.descCount / kSendDescStride || s.count > s.outCount / kSendOutStride) {
    throw Napi::RangeError::New(env, "argument count exceeds the descriptor or output arrays");
  }
  for (uint32_t k = 0; k < s.count; k++) {
    const int32_t* d = s.desc + k * kSendDescStride;
    auto which = [k] { return "message " + std::to_string(k); };
    if (d[0] < 0 || d[1] < 0 || static_cast<size_t>(d[0]) + static_cast<size_t>(d[1]) > s.dataBytes) {
      throw Napi::RangeError::New(env, which() + " lies outside the data buffer");
    }
    if (d[2] != 0 && d[2] != 4 && d[2] != 6) throw Napi::RangeError::New(env, which() + " has a family other than 4, 6 or 0");
    if (d[2] != 0 && (k + 1) * 16 > s.addrsBytes) throw Napi::RangeError::New(env, "argument addresses is too short for count");
    if (d[3] < 0 || d[3] > 65535) throw Napi::RangeError::New(env, which() + " has a port outside 0-65535");
    if (d[4] > 255 || d[5] > 255) throw Napi::RangeError::New(env, which() + ": ttl and tos must be from 0 to 255");
  }
  return s;
}

// Writes an int control message into c; the space it takes.
static size_t PutIntCmsg(cmsghdr* c, int level, int type, int value) {
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &value, sizeof(int));
  return CMSG_SPACE(sizeof(int));
}

// One sendmsg per message; stops at EAGAIN/ENOBUFS, leaving that message unsent. Returns how
// many were processed (sent, or failed with their errno in out).
static uint32_t Send(int fd, const SendArgs& s) {
  int domain = -1;
  uint32_t i = 0;
  for (; i < s.count; i++) {
    const int32_t* d = s.desc + i * kSendDescStride;
    double* o = s.out + i * kSendOutStride;
    int32_t offset = d[0], length = d[1], family = d[2], port = d[3], ttl = d[4], tos = d[5];
    sockaddr_storage ss;
    socklen_t sslen = 0;
    if (family == 4 || family == 6) {
      sslen = RawToSockaddr(family, s.addrs + i * 16, port, static_cast<uint32_t>(d[6]), &ss);
    }
    iovec iov{s.data + offset, static_cast<size_t>(length)};
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
      int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
      if (ttl >= 0) {
        used += PutIntCmsg(c, level, v6 ? IPV6_HOPLIMIT : IP_TTL, ttl);
        c = CMSG_NXTHDR(&mh, c);
      }
      if (tos >= 0) used += PutIntCmsg(c, level, v6 ? IPV6_TCLASS : IP_TOS, tos);
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
  return i;
}

// sendBatch(fd, data, desc: Int32Array, addrs: Buffer, count, out: Float64Array) -> processed
// desc per message: [offset, length, family (4/6, 0 = connected), port, ttl|-1, tos|-1, scopeId, 0]
// out per message: [sec, nsec, errno]. Stops at EAGAIN/ENOBUFS, leaving that message unsent.
static napi_value SendBatch(const Args& a) {
  int fd = a.Fd(0);
  SendArgs s = ReadSendArgs(a);
  return Int(a.env(), Send(fd, s));
}

// sendRecvBatch(fd, data, desc, addrs, count, out, buf, slotSize, maxMessages, meta, addrs,
//               counts: Int32Array) -> processed
// sendBatch, then (maxMessages > 0) one recvBatch of what is queued (not the error queue).
// counts = [processed, received], received being -errno when recvmmsg failed (the sends
// stand: a pending socket error is the caller's to report). Every argument is checked first.
static napi_value SendRecvBatch(const Args& a) {
  int fd = a.Fd(0);
  SendArgs s = ReadSendArgs(a);
  RecvArgs r = ReadRecvArgs(a, 6);
  int32_t* counts;
  size_t countsLen;
  a.Typed(11, "counts", napi_int32_array, "an Int32Array", &counts, &countsLen);
  if (countsLen < 2) throw Napi::RangeError::New(a.env(), "argument counts needs 2 elements");
  size_t n = RecvCapacity(r);
  if (n == 0 && r.max > 0) {
    throw Napi::RangeError::New(a.env(), "buffers hold no message slot (check slotSize, meta and addresses sizes)");
  }
  uint32_t sent = Send(fd, s);
  counts[0] = static_cast<int32_t>(sent);
  counts[1] = n > 0 ? Receive(fd, r, n, false) : 0;
  return Int(a.env(), sent);
}

void InitDatagramIo(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "recvBatch", Entry<RecvBatch>);
  ExportFunction(env, exports, "sendBatch", Entry<SendBatch>);
  ExportFunction(env, exports, "sendRecvBatch", Entry<SendRecvBatch>);
}

}  // namespace netdiag
