// Descriptor ownership: every fd the addon creates (socket, socketpair, accept4, dup,
// received SCM_RIGHTS) or is handed (adoptFd: the test addon's TUN devices) belongs to the
// environment whose JS asked for it, and is closed when that environment is torn down (a
// terminated worker, process exit) unless JS closed it first. Without this, a worker
// terminated mid-run leaves its raw sockets open in the process for good, each one still
// receiving a copy of every ICMP packet.
//
// One close path: close(), closeFd() and closeFds() all come here, so an fd number is never
// closed twice (a number closed behind the registry's back could be reused by another
// thread, and closing it again at teardown would close someone else's file).
#include <unistd.h>

#include <cerrno>

#include "common.h"
#include "poll_handle.h"

namespace netdiag {

int OwnFd(InstanceData* data, int fd) {
  if (fd < 0 || data == nullptr) return fd;
  try {
    data->owned_fds.insert(fd);
  } catch (...) {
    ::close(fd);  // out of memory: an fd nobody owns would outlive its environment
    throw;
  }
  return fd;
}

void ReleaseFd(InstanceData* data, int fd) {
  if (data != nullptr) data->owned_fds.erase(fd);
}

int CloseOwnedFd(InstanceData* data, int fd) {
  if (data != nullptr) {
    // libuv aborts if a polled fd vanishes from under epoll: stop any poll on it first
    if (!data->open_polls.empty()) StopPollsOnFd(data, fd);
    data->owned_fds.erase(fd);
  }
  // Linux releases the fd even when close fails with EINTR: never retry
  if (::close(fd) < 0 && errno != EINTR) return errno;
  return 0;
}

void CloseAllOwnedFds(InstanceData* data) {
  for (int fd : data->owned_fds) ::close(fd);
  data->owned_fds.clear();
}

}  // namespace netdiag
