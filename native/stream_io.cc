// Message I/O for AF_UNIX SOCK_SEQPACKET: batched sendmsg/recvmsg with SCM_RIGHTS, peer
// credentials, and the fd bookkeeping the TypeScript layer needs (dup before queueing a send,
// close what nobody took). Policy (sizes, backpressure, who owns which fd) lives in TypeScript.
//
//   sendMessages: sendmmsg in chunks of 64 (MSG_NOSIGNAL | MSG_DONTWAIT), fds as SCM_RIGHTS;
//                 stops at EAGAIN and returns the count; other errors throw with `sent`.
//   recvMessages: a bounded loop of recvmsg (MSG_CMSG_CLOEXEC | MSG_TRUNC) packing messages
//                 back to back into one JS buffer; per message its offset, real length,
//                 MSG_TRUNC/MSG_CTRUNC, and its fds, written to the receive area JS set
//                 once (setReceiveArea). A control buffer sized for SCM_MAX_FD.
//
// Fd ownership: the fds this layer holds for JS (sockets, duplicates queued for sending,
// received fds not yet handed to the application) are in the environment's fd registry
// (fd_registry.cc, shared with every other fd the addon makes) and closed when the
// environment is torn down (a terminated worker, process exit), so none outlives the JS
// objects that owned it. JS releases a received fd from the registry before the application
// gets it; from then on it is the application's.
//
// Zero-length message vs end of stream: recvmsg returns 0 for both on SEQPACKET. With
// SO_PASSCRED set on the socket (the TypeScript layer sets it), the kernel attaches an
// SCM_CREDENTIALS record to every message, empty ones included, and to nothing at end of
// stream: a 0 with credentials is an empty message, a 0 without is the end.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "common.h"
#include "poll_handle.h"

namespace netdiag {

constexpr int kScmMaxFd = 253;           // SCM_MAX_FD in the kernel: most fds in one message
constexpr size_t kSendDescStride = 4;    // offset, length, fdsOffset, fdsCount
constexpr size_t kRecvMetaStride = 5;    // offset, length, flags, fdsOffset, fdsCount
constexpr uint32_t kMaxRecvBatch = 4096;
constexpr size_t kSendChunk = 64;        // messages per sendmmsg call

// Per environment: its instance data (which holds the fd registry), and the receive area's
// meta and fds arrays (setReceiveArea), referenced so their off-heap memory stays put, and
// not looked up again on every read.
struct StreamIoData {
  InstanceData* data = nullptr;
  napi_ref metaRef = nullptr;
  napi_ref fdsRef = nullptr;
  int32_t* meta = nullptr;
  size_t metaLength = 0;
  int32_t* fdsOut = nullptr;
  size_t fdsLength = 0;
};

static StreamIoData* Registry(const Napi::CallbackInfo& info) { return static_cast<StreamIoData*>(info.Data()); }

// The references themselves go with the environment; only the struct is ours to free.
static void FreeAtTeardown(void* arg) { delete static_cast<StreamIoData*>(arg); }

enum RecvFlag : int32_t {
  kTruncated = 1,       // MSG_TRUNC: the message was longer than maxMessageSize; length is the real one
  kFdsTruncated = 2,    // MSG_CTRUNC: some fds were lost (RLIMIT_NOFILE reached, or too many)
  kEndOfStream = 4,     // the peer shut down writing or closed
  kError = 8,           // recvmsg failed: length holds the errno
};

// Room for SCM_RIGHTS with SCM_MAX_FD fds plus SCM_CREDENTIALS, with slack for records a
// future kernel or a socket option might add (SCM_PIDFD, SCM_SECURITY).
constexpr size_t kControlSize = CMSG_SPACE(sizeof(int) * kScmMaxFd) + CMSG_SPACE(sizeof(ucred)) + 256;

static int32_t DescAt(const int32_t* desc, size_t i, size_t k) { return desc[i * kSendDescStride + k]; }

// sendMessages(fd, data, desc, fds, start, count) -> sent
static Napi::Value SendMessages(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd = args.Fd(0);
  Napi::Buffer<uint8_t> data = args.Buffer(1, "data");
  Napi::TypedArrayOf<int32_t> desc = args.Int32Array(2, "desc");
  Napi::TypedArrayOf<int32_t> fds = args.Int32Array(3, "fds");
  uint32_t start = args.Uint(4, "start");
  uint32_t count = args.Uint(5, "count");
  size_t descCount = desc.ElementLength() / kSendDescStride;
  if (start > descCount || count > descCount - start) {
    throw Napi::RangeError::New(env, "arguments start and count must lie within desc (4 int32 per message)");
  }
  const int32_t* d = desc.Data();
  // check every descriptor before sending anything: a bad one must not leave half a batch sent
  for (size_t i = start; i < start + count; i++) {
    int32_t off = DescAt(d, i, 0), len = DescAt(d, i, 1), foff = DescAt(d, i, 2), fcnt = DescAt(d, i, 3);
    if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > data.Length()) {
      throw Napi::RangeError::New(env, "message " + std::to_string(i) + " lies outside data");
    }
    if (fcnt < 0 || fcnt > kScmMaxFd || foff < 0 ||
        static_cast<size_t>(foff) + static_cast<size_t>(fcnt) > fds.ElementLength()) {
      throw Napi::RangeError::New(env, "message " + std::to_string(i) + ": its fds lie outside fds or exceed 253");
    }
  }
  // sendmmsg in chunks: one system call for many messages
  mmsghdr msgs[kSendChunk];
  iovec iovs[kSendChunk];
  thread_local std::vector<char> control;
  uint32_t sent = 0;
  while (sent < count) {
    size_t n = count - sent < kSendChunk ? count - sent : kSendChunk;
    size_t controlBytes = 0;
    for (size_t k = 0; k < n; k++) {
      int32_t fcnt = DescAt(d, start + sent + k, 3);
      if (fcnt > 0) controlBytes += CMSG_SPACE(sizeof(int) * static_cast<size_t>(fcnt));
    }
    if (control.size() < controlBytes) control.resize(controlBytes);
    if (controlBytes > 0) std::memset(control.data(), 0, controlBytes);
    size_t controlUsed = 0;
    for (size_t k = 0; k < n; k++) {
      size_t i = start + sent + k;
      int32_t off = DescAt(d, i, 0), len = DescAt(d, i, 1), foff = DescAt(d, i, 2), fcnt = DescAt(d, i, 3);
      iovs[k] = iovec{data.Data() + off, static_cast<size_t>(len)};
      msghdr& mh = msgs[k].msg_hdr;
      mh = msghdr{};
      mh.msg_iov = &iovs[k];
      mh.msg_iovlen = 1;
      msgs[k].msg_len = 0;
      if (fcnt > 0) {
        size_t bytes = sizeof(int) * static_cast<size_t>(fcnt);
        mh.msg_control = control.data() + controlUsed;
        mh.msg_controllen = CMSG_SPACE(bytes);
        controlUsed += CMSG_SPACE(bytes);
        cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(bytes);
        std::memcpy(CMSG_DATA(c), fds.Data() + foff, bytes);
      }
    }
    int r;
    do r = ::sendmmsg(fd, msgs, static_cast<unsigned>(n), MSG_NOSIGNAL | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Napi::Error e = ErrnoError(env, errno, "sendmsg");
      e.Set("sent", Napi::Number::New(env, sent));
      throw e;
    }
    // fewer than n: EAGAIN or an error at message r (sendmmsg drops its errno); the next
    // round starts there and reports it
    sent += static_cast<uint32_t>(r);
  }
  return Napi::Number::New(env, sent);
}

// Closes fds a message brought when they cannot be handed over (no room left in fdsOut).
static void CloseAll(const int* fds, size_t n) {
  for (size_t i = 0; i < n; i++) ::close(fds[i]);
}

// setReceiveArea(meta: Int32Array, fdsOut: Int32Array): where recvMessages reports.
static Napi::Value SetReceiveArea(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  StreamIoData* reg = Registry(info);
  Napi::TypedArrayOf<int32_t> meta = args.Int32Array(0, "meta");
  Napi::TypedArrayOf<int32_t> fdsOut = args.Int32Array(1, "fdsOut");
  if (meta.ElementLength() < kRecvMetaStride) throw Napi::RangeError::New(env, "argument meta must hold at least one entry (5 int32)");
  if (fdsOut.ElementLength() < static_cast<size_t>(kScmMaxFd)) {
    throw Napi::RangeError::New(env, "argument fdsOut must hold at least 253 fds");
  }
  // small typed arrays live on the V8 heap and can move: insist on off-heap ones
  if (meta.ByteLength() <= 64 || fdsOut.ByteLength() <= 64) throw Napi::RangeError::New(env, "meta and fdsOut must be larger than 64 bytes");
  if (reg->metaRef != nullptr) napi_delete_reference(env, reg->metaRef);
  if (reg->fdsRef != nullptr) napi_delete_reference(env, reg->fdsRef);
  reg->metaRef = reg->fdsRef = nullptr;
  reg->meta = reg->fdsOut = nullptr;
  if (napi_create_reference(env, meta, 1, &reg->metaRef) != napi_ok || napi_create_reference(env, fdsOut, 1, &reg->fdsRef) != napi_ok) {
    throw Napi::Error::New(env, "napi_create_reference failed");
  }
  reg->meta = meta.Data();
  reg->metaLength = meta.ElementLength();
  reg->fdsOut = fdsOut.Data();
  reg->fdsLength = fdsOut.ElementLength();
  return env.Undefined();
}

// The current data of a registered Int32Array, which must still hold `length` elements.
static int32_t* ReceiveAreaArray(Napi::Env env, napi_ref ref, size_t length, const char* name) {
  napi_value value;
  napi_typedarray_type type;
  size_t elements = 0;
  void* data = nullptr;
  if (napi_get_reference_value(env, ref, &value) != napi_ok || value == nullptr ||
      napi_get_typedarray_info(env, value, &type, &elements, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || data == nullptr || elements < length) {
    throw Napi::Error::New(env, std::string("the receive area's ") + name + " was detached or shrunk: call setReceiveArea() again");
  }
  return static_cast<int32_t*>(data);
}

// recvMessages(fd, buf, offset, maxMessageSize, maxMessages) -> entries (in the receive area)
static Napi::Value RecvMessages(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  StreamIoData* reg = Registry(info);
  int fd = args.Fd(0);
  Napi::Buffer<uint8_t> buf = args.Buffer(1, "buffer");
  uint32_t offset = args.Uint(2, "offset");
  uint32_t maxSize = args.Uint(3, "maxMessageSize");
  uint32_t maxMessages = args.Uint(4, "maxMessages");
  if (reg->meta == nullptr) throw Napi::Error::New(env, "setReceiveArea() first");
  if (maxSize == 0) throw Napi::RangeError::New(env, "argument maxMessageSize must be positive");
  if (buf.Length() > 0x7fffffff) throw Napi::RangeError::New(env, "argument buffer must be smaller than 2 GiB");
  if (offset > buf.Length() || buf.Length() - offset < maxSize) {
    throw Napi::RangeError::New(env, "buffer must hold maxMessageSize bytes after offset");
  }
  size_t n = maxMessages;
  if (n > kMaxRecvBatch) n = kMaxRecvBatch;
  if (n > reg->metaLength / kRecvMetaStride) n = reg->metaLength / kRecvMetaStride;
  if (n == 0) throw Napi::RangeError::New(env, "argument maxMessages must be positive");

  // re-read the registered arrays on every call: a transferred (detached) or shrunk buffer
  // must never be written through a pointer kept from setReceiveArea
  int32_t* m0 = ReceiveAreaArray(env, reg->metaRef, reg->metaLength, "meta");
  int32_t* fo = ReceiveAreaArray(env, reg->fdsRef, reg->fdsLength, "fdsOut");
  const size_t fdsCap = reg->fdsLength;
  size_t pos = offset, fdsUsed = 0, got = 0;
  alignas(cmsghdr) char control[kControlSize];
  while (got < n && buf.Length() - pos >= maxSize && fdsCap - fdsUsed >= static_cast<size_t>(kScmMaxFd)) {
    iovec iov{buf.Data() + pos, maxSize};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof(control);
    ssize_t r;
    do r = ::recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    while (r < 0 && errno == EINTR);
    int32_t* m = m0 + got * kRecvMetaStride;
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      m[0] = static_cast<int32_t>(pos);
      m[1] = errno;
      m[2] = kError;
      m[3] = static_cast<int32_t>(fdsUsed);
      m[4] = 0;
      got++;
      break;
    }
    bool credentials = false;
    int32_t flags = 0;
    size_t fdsStart = fdsUsed;
    if (mh.msg_controllen > 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS) {
          credentials = true;
        } else if (c->cmsg_type == SCM_RIGHTS) {
          size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          const unsigned char* p = CMSG_DATA(c);
          for (size_t j = 0; j < k; j++) {
            int v;
            std::memcpy(&v, p + j * sizeof(int), sizeof(int));
            if (fdsUsed < fdsCap) {
              fo[fdsUsed++] = v;
              OwnFd(reg->data, v);
            } else {
              CloseAll(&v, 1);  // cannot hand it over: close it and say fds were lost
              flags |= kFdsTruncated;
            }
          }
        }
      }
    }
    if (r == 0 && !credentials) {
      // end of stream (see the comment at the top); nothing more will come
      m[0] = static_cast<int32_t>(pos);
      m[1] = 0;
      m[2] = kEndOfStream;
      m[3] = static_cast<int32_t>(fdsStart);
      m[4] = static_cast<int32_t>(fdsUsed - fdsStart);
      got++;
      break;
    }
    if (mh.msg_flags & MSG_TRUNC) flags |= kTruncated;
    if (mh.msg_flags & MSG_CTRUNC) flags |= kFdsTruncated;
    size_t stored = static_cast<size_t>(r) < maxSize ? static_cast<size_t>(r) : maxSize;
    m[0] = static_cast<int32_t>(pos);
    m[1] = r > 0x7fffffff ? 0x7fffffff : static_cast<int32_t>(r);
    m[2] = flags;
    m[3] = static_cast<int32_t>(fdsStart);
    m[4] = static_cast<int32_t>(fdsUsed - fdsStart);
    got++;
    pos += stored;
    // a damaged message ends the batch: JS reports it and stops reading this socket, so no
    // later message (and none of its fds) may be taken from the kernel behind its back
    if (flags != 0) break;
  }
  return Napi::Number::New(env, static_cast<double>(got));
}

static Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int fd = args.Fd(0);
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) throw ErrnoError(env, errno, "getsockopt(SO_PEERCRED)");
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, cred.pid));
  o.Set("uid", Napi::Number::New(env, cred.uid));
  o.Set("gid", Napi::Number::New(env, cred.gid));
  return o;
}

// duplicateFds(fds: number[]) -> number[]: close-on-exec copies, so a queued send does not
// depend on the caller keeping its fds open. All or nothing.
static Napi::Value DuplicateFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StreamIoData* reg = Registry(info);
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "argument fds must be an array of fd numbers");
  Napi::Array src = info[0].As<Napi::Array>();
  uint32_t n = src.Length();
  if (n > static_cast<uint32_t>(kScmMaxFd)) throw Napi::RangeError::New(env, "at most 253 fds can travel in one message");
  // read every number before duplicating anything: reading can throw (a getter, a
  // terminating worker), and no duplicate may be left behind then
  int want[kScmMaxFd];
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = src.Get(i);
    double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0 && x <= 0x7fffffff) || x != static_cast<double>(static_cast<int32_t>(x))) {
      throw Napi::RangeError::New(env, "fds[" + std::to_string(i) + "] must be a non-negative integer");
    }
    want[i] = static_cast<int>(x);
  }
  int dup[kScmMaxFd];
  for (uint32_t i = 0; i < n; i++) {
    int d = ::fcntl(want[i], F_DUPFD_CLOEXEC, 0);
    if (d < 0) {
      int err = errno;
      CloseAll(dup, i);
      Napi::Error e = ErrnoError(env, err, "fcntl(F_DUPFD_CLOEXEC)");
      e.Set("fd", Napi::Number::New(env, want[i]));
      throw e;
    }
    dup[i] = d;
  }
  for (uint32_t i = 0; i < n; i++) OwnFd(reg->data, dup[i]);
  Napi::Array out = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) out.Set(i, Napi::Number::New(env, dup[i]));
  return out;
}

// fds, start, count from argument 0 on: a range that lies within fds.
struct FdRange {
  int32_t* fds;
  uint32_t start;
  uint32_t end;
};
static FdRange ReadFdRange(const Args& args) {
  Napi::TypedArrayOf<int32_t> fds = args.Int32Array(0, "fds");
  uint32_t start = args.Uint(1, "start");
  uint32_t count = args.Uint(2, "count");
  if (start > fds.ElementLength() || count > fds.ElementLength() - start) {
    throw Napi::RangeError::New(fds.Env(), "arguments start and count must lie within fds");
  }
  return {fds.Data(), start, start + count};
}

// closeFds(fds: Int32Array, start, count): closes fds this layer owns (received and not
// taken, or duplicated for a send).
static Napi::Value CloseFds(const Napi::CallbackInfo& info) {
  StreamIoData* reg = Registry(info);
  FdRange r = ReadFdRange(Args(info));
  for (uint32_t i = r.start; i < r.end; i++) {
    if (r.fds[i] >= 0) CloseOwnedFd(reg->data, r.fds[i]);
  }
  return info.Env().Undefined();
}

// releaseFds(fds: Int32Array, start, count): the application takes these received fds.
static Napi::Value ReleaseFds(const Napi::CallbackInfo& info) {
  StreamIoData* reg = Registry(info);
  FdRange r = ReadFdRange(Args(info));
  for (uint32_t i = r.start; i < r.end; i++) ReleaseFd(reg->data, r.fds[i]);
  return info.Env().Undefined();
}

// adoptFd(fd): an fd the environment now owns (closed at teardown unless closed first); the
// addon's own sockets are owned already, this is for fds the application hands over.
static Napi::Value AdoptFd(const Napi::CallbackInfo& info) {
  const Args args(info);
  OwnFd(Registry(info)->data, args.Fd(0));
  return info.Env().Undefined();
}

// closeFd(fd): the same close path as close(fd).
static Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  const Args args(info);
  int err = CloseOwnedFd(Registry(info)->data, args.Fd(0));
  if (err != 0) throw ErrnoError(info.Env(), err, "close");
  return info.Env().Undefined();
}

void InitStreamIo(Napi::Env env, Napi::Object exports) {
  auto* reg = new StreamIoData();
  reg->data = GetInstanceData(env);
  napi_status s = napi_add_env_cleanup_hook(env, FreeAtTeardown, reg);
  if (s != napi_ok) {
    delete reg;
    throw Napi::Error::New(env, "napi_add_env_cleanup_hook failed");
  }
  NETDIAG_EXPORT(env, exports, "sendMessages", SendMessages);
  ExportFunction(env, exports, "recvMessages", Guarded<RecvMessages>, reg);
  ExportFunction(env, exports, "setReceiveArea", Guarded<SetReceiveArea>, reg);
  NETDIAG_EXPORT(env, exports, "peerCredentials", PeerCredentials);
  ExportFunction(env, exports, "duplicateFds", Guarded<DuplicateFds>, reg);
  ExportFunction(env, exports, "closeFds", Guarded<CloseFds>, reg);
  ExportFunction(env, exports, "releaseFds", Guarded<ReleaseFds>, reg);
  ExportFunction(env, exports, "adoptFd", Guarded<AdoptFd>, reg);
  ExportFunction(env, exports, "closeFd", Guarded<CloseFd>, reg);
  exports.Set("SCM_MAX_FD", Napi::Number::New(env, kScmMaxFd));
}

}  // namespace netdiag
