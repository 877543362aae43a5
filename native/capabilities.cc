// Linux capabilities of the calling thread: read them, raise one from permitted to
// effective, drop them all. Capabilities are per thread; the JS thread is the one that
// opens sockets, so that is the thread that matters.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common.h"

namespace netdiag {

static bool ReadCaps(__user_cap_data_struct data[2]) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &hdr, data) == 0;
}

static bool WriteCaps(__user_cap_data_struct data[2]) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capset, &hdr, data) == 0;
}

static std::string Hex(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

static uint64_t Join(uint32_t lo, uint32_t hi) { return (static_cast<uint64_t>(hi) << 32) | lo; }

// capabilities() -> {effective, permitted, inheritable, ambient, bounding} as 16-digit hex masks
static Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  __user_cap_data_struct data[2] = {};
  if (!ReadCaps(data)) throw ErrnoError(env, errno, "capget");
  uint64_t ambient = 0, bounding = 0;
  // separate loops: a kernel without ambient capabilities (< 4.3) still has a bounding set
  for (int cap = 0; cap < 64; cap++) {
    int a = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
    if (a < 0) break;  // past the last capability this kernel knows
    if (a == 1) ambient |= 1ULL << cap;
  }
  for (int cap = 0; cap < 64; cap++) {
    int b = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (b < 0) break;
    if (b == 1) bounding |= 1ULL << cap;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("effective", Hex(Join(data[0].effective, data[1].effective)));
  o.Set("permitted", Hex(Join(data[0].permitted, data[1].permitted)));
  o.Set("inheritable", Hex(Join(data[0].inheritable, data[1].inheritable)));
  o.Set("ambient", Hex(ambient));
  o.Set("bounding", Hex(bounding));
  return o;
}

// raiseCapability(cap) -> true when cap is now effective (it must be permitted)
static Napi::Value RaiseCapability(const Napi::CallbackInfo& info) {
  const Args args(info);
  Napi::Env env = info.Env();
  int cap = args.Int(0, "capability");
  if (cap < 0 || cap > 63) throw Napi::RangeError::New(env, "argument capability must be from 0 to 63");
  __user_cap_data_struct data[2] = {};
  if (!ReadCaps(data)) throw ErrnoError(env, errno, "capget");
  uint32_t bit = 1u << (cap % 32);
  __user_cap_data_struct& d = data[cap / 32];
  if (d.effective & bit) return Napi::Boolean::New(env, true);
  if (!(d.permitted & bit)) return Napi::Boolean::New(env, false);
  d.effective |= bit;
  if (!WriteCaps(data)) throw ErrnoError(env, errno, "capset");
  return Napi::Boolean::New(env, true);
}

// Capabilities belong to each thread, and Node has many (V8's platform workers, libuv's
// pool, which later runs getaddrinfo). Each thread must drop its own: like libcap's psx, a
// real-time signal asks every other thread of the process to run capset on itself.
static std::atomic<int> g_dropped{0};
static std::atomic<int> g_drop_failed{0};

static bool DropOwnCapabilities() {
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_data_struct data[2] = {};
  return WriteCaps(data);
}

static void OnDropSignal(int) {
  int saved = errno;
  (DropOwnCapabilities() ? g_dropped : g_drop_failed).fetch_add(1);
  errno = saved;
}

static int DropSignal() { return SIGRTMIN + 3; }

// A thread that blocks the drop signal (Node's SIGUSR1 watcher blocks every signal and only
// waits in sigwait) would never run the handler: waiting for it costs the whole timeout.
// /proc/self/task/TID/status says which signals a thread blocks; such a thread is reported
// as skipped, not asked. Returns false when the status cannot be read (the thread is gone).
static bool ThreadBlocksSignal(long tid, int sig, bool* blocks) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
  FILE* f = std::fopen(path, "re");
  if (!f) return false;
  char line[256];
  bool found = false;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, "SigBlk:", 7) != 0) continue;
    uint64_t mask = std::strtoull(line + 7, nullptr, 16);
    *blocks = (mask >> (sig - 1)) & 1;
    found = true;
    break;
  }
  std::fclose(f);
  return found;
}

// dropCapabilities() -> {threads, asked, dropped, skipped: [tid...]}: empties the effective,
// permitted, inheritable and ambient sets of every thread of the process that can take the
// drop signal. `skipped` lists the threads that block it (they keep their sets and never run
// our code); the wait covers only the threads asked, so it ends as soon as they have answered.
static Napi::Value DropCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // the handler stays installed: a late delivery must find it, never the default (fatal) action
  struct sigaction sa {};
  sa.sa_handler = OnDropSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  const int sig = DropSignal();
  if (sigaction(sig, &sa, nullptr) < 0) throw ErrnoError(env, errno, "sigaction");
  g_dropped = 0;
  g_drop_failed = 0;
  pid_t pid = getpid();
  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  int asked = 0;
  std::vector<long> skipped;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) {
      char* end = nullptr;
      long tid = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0' || tid == self) continue;
      bool blocks = false;
      if (!ThreadBlocksSignal(tid, sig, &blocks)) continue;  // exited meanwhile
      if (blocks) {
        skipped.push_back(tid);
        continue;
      }
      if (syscall(SYS_tgkill, pid, static_cast<pid_t>(tid), sig) == 0) asked++;
    }
    closedir(dir);
  }
  if (!DropOwnCapabilities()) throw ErrnoError(env, errno, "capset");
  // Every thread asked can run the handler as soon as it is scheduled, so this ends in
  // microseconds; the bound only guards against a thread that blocked the signal after its
  // status was read (it keeps the signal pending and runs the handler when it unblocks).
  for (int waited = 0; waited < 2000 && g_dropped + g_drop_failed < asked; waited++) {
    timespec ts{0, 50000};
    nanosleep(&ts, nullptr);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", asked + 1 + static_cast<int>(skipped.size()));
  o.Set("asked", asked + 1);
  o.Set("dropped", g_dropped.load() + 1);
  Napi::Array list = Napi::Array::New(env, skipped.size());
  for (size_t i = 0; i < skipped.size(); i++) list.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(skipped[i])));
  o.Set("skipped", list);
  return o;
}

void InitCapabilities(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("raiseCapability", Napi::Function::New(env, RaiseCapability, "raiseCapability"));
  exports.Set("dropCapabilities", Napi::Function::New(env, DropCapabilities, "dropCapabilities"));
}

}  // namespace netdiag
