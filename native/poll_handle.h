// A uv_poll_t on the environment's own loop, tracked so the environment can close it.
#pragma once

#include <uv.h>

#include "common.h"

namespace netdiag {

class Poller;

struct PollHandle {
  uv_poll_t uv;
  int fd = -1;
  int events = 0;        // uv events requested by start()
  bool active = false;
  bool closing = false;
  Poller* owner = nullptr;  // null once the JS object is gone or detached
  InstanceData* data = nullptr;
};

// Stops every poll on fd (before the fd is closed: libuv aborts on a vanished fd).
void StopPollsOnFd(InstanceData* data, int fd);
// Stops and closes; memory is freed in the close callback.
void ClosePollHandle(PollHandle* h);

}  // namespace netdiag
