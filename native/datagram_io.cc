// Batched datagram I/O for ICMP, UDP and raw TCP sockets, over typed arrays registered once
// (ioArea: a send batch's, a receive area's), so a crossing does not read them again.
//   recvBatchIn: recvmmsg into the area's slots; per message the length, flags, kernel
//              receive time (SO_TIMESTAMPNS), TTL/hop limit, TOS/traffic class, source, and for
//              the error queue the sock_extended_err fields and the offender.
//   sendBatchIn: one sendmsg per message with per-message TTL/TOS as ancillary data; the send
//              time is taken right before each sendmsg, so RTTs never depend on JS timing.
//   sendRecvBatchIn: sendBatchIn, then recvBatchIn of what is queued, in one crossing (on
//              loopback and fast links the answers to a batch are queued before its last
//              sendmsg returns).
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
#include <memory>
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

// How many messages the buffers hold room for (at most max); 0 = none.
static size_t RecvCapacity(const RecvArgs& r) {
  size_t n = r.max;
  if (n > kMaxBatch) n = kMaxBatch;
  if (n > r.bufBytes / r.slot) n = r.bufBytes / r.slot;
  if (n > r.metaCount / kMetaStride) n = r.metaCount / kMetaStride;
  if (n > r.addrsBytes / kAddrStride) n = r.addrsBytes / kAddrStride;
  return n;
}

// The messages to read into r (RecvCapacity); throws when max asks for some and none fit.
static size_t RecvSlots(const Args& a, const RecvArgs& r) {
  size_t n = RecvCapacity(r);
  if (n == 0 && r.max > 0) {
    throw Napi::RangeError::New(a.env(), "buffers hold no message slot (check slotSize, meta and addresses sizes)");
  }
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

// Checks count and every descriptor against the arrays, so that an error never leaves a batch
// half sent.
static void CheckSendDescriptors(napi_env napiEnv, const SendArgs& s) {
  Napi::Env env(napiEnv);
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
    if (d[7] < 0 || d[7] > 0xfffff || (d[7] != 0 && d[2] != 6)) {
      throw Napi::RangeError::New(env, which() + ": a flow label is 0-0xfffff and needs an IPv6 destination");
    }
  }
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
      // the kernel sends it when the socket has IPV6_FLOWINFO_SEND and holds a lease on it
      if (d[7] != 0) reinterpret_cast<sockaddr_in6*>(&ss)->sin6_flowinfo = htonl(static_cast<uint32_t>(d[7]));
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

// ---------------------------------------------------------------------------------------------
// registered areas: the typed arrays of a send batch or a receive area, read once
//
// A flood crosses into C once per probe, and reading eight typed arrays' type, length and
// memory on every crossing costs more than the rest of the call's user-space work. An IoArea
// reads them once and keeps references to their ArrayBuffers, so that they outlive it; each
// call then checks only that no ArrayBuffer was detached (transferred) meanwhile, which would
// free or move the memory the cached pointers point into.

struct IoArea {
  static constexpr size_t kMaxViews = 4;
  napi_env env = nullptr;
  size_t views = 0;
  void* data[kMaxViews] = {};
  size_t length[kMaxViews] = {};  // elements
  napi_typedarray_type type[kMaxViews] = {};
  // the distinct ArrayBuffers behind the views
  size_t buffers = 0;
  napi_ref buffer[kMaxViews] = {};
  void* bufferData[kMaxViews] = {};
};

// Tells an IoArea's external from any other (another addon's, or a JS value).
static const napi_type_tag kIoAreaTag = {0x6e65746469616721ULL, 0x696f2d6172656131ULL};

static void FinalizeIoArea(napi_env env, void* data, void*) {
  auto* area = static_cast<IoArea*>(data);
  for (size_t i = 0; i < area->buffers; i++) napi_delete_reference(env, area->buffer[i]);
  delete area;
}

// ioArea(view0, view1, ...): registers up to four typed arrays (a send batch: data, desc,
// addrs, out; a receive area: buf, meta, addrs, counts) -> an opaque handle.
static napi_value IoAreaNew(const Args& a) {
  napi_env env = a.env();
  size_t n = a.Length();
  if (n == 0 || n > IoArea::kMaxViews) throw Napi::RangeError::New(env, "ioArea takes one to four typed arrays");
  auto area = std::make_unique<IoArea>();
  area->env = env;
  for (size_t i = 0; i < n; i++) {
    napi_value view = a.At(i);
    napi_value ab;
    size_t offset;
    if (napi_get_typedarray_info(env, view, &area->type[i], &area->length[i], &area->data[i], &ab, &offset) != napi_ok) {
      a.ThrowType("view", "a typed array");
    }
    void* abData = nullptr;
    size_t abBytes = 0;
    if (napi_get_arraybuffer_info(env, ab, &abData, &abBytes) != napi_ok) a.ThrowType("view", "a typed array");
    area->views++;
    bool known = false;
    for (size_t k = 0; k < area->buffers; k++) known = known || area->bufferData[k] == abData;
    if (known) continue;
    if (napi_create_reference(env, ab, 1, &area->buffer[area->buffers]) != napi_ok) {
      for (size_t k = 0; k < area->buffers; k++) napi_delete_reference(env, area->buffer[k]);
      throw Napi::Error::New(env, "cannot keep a reference to the area's memory");
    }
    area->bufferData[area->buffers++] = abData;
  }
  napi_value external;
  if (napi_create_external(env, area.get(), FinalizeIoArea, nullptr, &external) != napi_ok) {
    for (size_t k = 0; k < area->buffers; k++) napi_delete_reference(env, area->buffer[k]);
    throw Napi::Error::New(env, "cannot make the area's handle");
  }
  area.release();
  napi_type_tag_object(env, external, &kIoAreaTag);
  return external;
}

// The IoArea of argument i, its memory checked to be still attached; `views` views wanted.
static const IoArea& AreaArg(const Args& a, size_t i, const char* name, size_t views) {
  napi_env env = a.env();
  napi_value v = a.At(i);
  bool tagged = false;
  void* p = nullptr;
  if (napi_check_object_type_tag(env, v, &kIoAreaTag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, &p) != napi_ok || p == nullptr) {
    a.ThrowType(name, "an area made by ioArea()");
  }
  const auto* area = static_cast<const IoArea*>(p);
  if (area->env != env || area->views != views) a.ThrowType(name, "an area of the right kind made by ioArea()");
  for (size_t k = 0; k < area->buffers; k++) {
    napi_value ab;
    bool detached = true;
    if (napi_get_reference_value(env, area->buffer[k], &ab) != napi_ok || ab == nullptr ||
        napi_is_detached_arraybuffer(env, ab, &detached) != napi_ok || detached) {
      throw Napi::TypeError::New(env, std::string("argument ") + name + ": its memory was detached (transferred)");
    }
  }
  return *area;
}

static size_t ElementBytes(napi_typedarray_type t) {
  switch (t) {
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 1;
  }
}

// A send batch's area (data, desc: Int32Array, addrs, out: Float64Array) and a count.
static SendArgs SendArea(const Args& a, size_t i, uint32_t count) {
  const IoArea& area = AreaArg(a, i, "sendArea", 4);
  if (area.type[1] != napi_int32_array || area.type[3] != napi_float64_array) a.ThrowType("sendArea", "a send batch's area");
  SendArgs s;
  s.data = static_cast<uint8_t*>(area.data[0]);
  s.dataBytes = area.length[0] * ElementBytes(area.type[0]);
  s.desc = static_cast<int32_t*>(area.data[1]);
  s.descCount = area.length[1];
  s.addrs = static_cast<uint8_t*>(area.data[2]);
  s.addrsBytes = area.length[2] * ElementBytes(area.type[2]);
  s.count = count;
  s.out = static_cast<double*>(area.data[3]);
  s.outCount = area.length[3];
  CheckSendDescriptors(a.env(), s);
  return s;
}

// A receive area (buf, meta: Float64Array, addrs, counts: Int32Array) read as slotSize-byte
// slots, at most max messages; its counts.
static RecvArgs RecvArea(const Args& a, size_t i, uint32_t slot, uint32_t max, int32_t** counts) {
  const IoArea& area = AreaArg(a, i, "recvArea", 4);
  if (area.type[1] != napi_float64_array || area.type[3] != napi_int32_array || area.length[3] < 2) {
    a.ThrowType("recvArea", "a receive area's area");
  }
  if (slot == 0) throw Napi::RangeError::New(a.env(), "argument slotSize must be positive");
  RecvArgs r;
  r.buf = static_cast<uint8_t*>(area.data[0]);
  r.bufBytes = area.length[0] * ElementBytes(area.type[0]);
  r.slot = slot;
  r.max = max;
  r.meta = static_cast<double*>(area.data[1]);
  r.metaCount = area.length[1];
  r.addrs = static_cast<uint8_t*>(area.data[2]);
  r.addrsBytes = area.length[2] * ElementBytes(area.type[2]);
  *counts = static_cast<int32_t*>(area.data[3]);
  return r;
}

// sendBatchIn(fd, sendArea, count) -> processed
// desc per message: [offset, length, family (4/6, 0 = connected), port, ttl|-1, tos|-1, scopeId, IPv6 flow label|0]
// out per message: [sec, nsec, errno]. Stops at EAGAIN/ENOBUFS, leaving that message unsent.
static napi_value SendBatchIn(const Args& a) {
  int fd = a.Fd(0);
  SendArgs s = SendArea(a, 1, a.Uint(2, "count"));
  return Int(a.env(), Send(fd, s));
}

// recvBatchIn(fd, recvArea, slotSize, max, errqueue) -> count (0: nothing queued)
static napi_value RecvBatchIn(const Args& a) {
  int fd = a.Fd(0);
  int32_t* counts;
  RecvArgs r = RecvArea(a, 1, a.Uint(2, "slotSize"), a.Uint(3, "maxMessages"), &counts);
  bool errqueue = a.Bool(4, "errqueue");
  size_t n = RecvSlots(a, r);
  if (n == 0) throw Napi::RangeError::New(a.env(), "argument maxMessages must be positive");
  int got = Receive(fd, r, n, errqueue);
  if (got < 0) throw ErrnoError(a.env(), -got, errqueue ? "recvmmsg(MSG_ERRQUEUE)" : "recvmmsg");
  return Int(a.env(), got);
}

// sendRecvBatchIn(fd, sendArea, count, recvArea, slotSize, max) -> processed
// sendBatchIn, then (max > 0) one recvBatchIn of what is queued (not the error queue). The
// receive area's counts get [processed, received], received being -errno when recvmmsg failed
// (the sends stand: a pending socket error is the caller's to report). Every argument is
// checked first.
static napi_value SendRecvBatchIn(const Args& a) {
  int fd = a.Fd(0);
  SendArgs s = SendArea(a, 1, a.Uint(2, "count"));
  int32_t* counts;
  RecvArgs r = RecvArea(a, 3, a.Uint(4, "slotSize"), a.Uint(5, "maxMessages"), &counts);
  size_t n = RecvSlots(a, r);
  uint32_t sent = Send(fd, s);
  counts[0] = static_cast<int32_t>(sent);
  counts[1] = n > 0 ? Receive(fd, r, n, false) : 0;
  return Int(a.env(), sent);
}

void InitDatagramIo(Napi::Env env, Napi::Object exports) {
  ExportFunction(env, exports, "ioArea", Entry<IoAreaNew>);
  ExportFunction(env, exports, "sendBatchIn", Entry<SendBatchIn>);
  ExportFunction(env, exports, "recvBatchIn", Entry<RecvBatchIn>);
  ExportFunction(env, exports, "sendRecvBatchIn", Entry<SendRecvBatchIn>);
}

}  // namespace netdiag
