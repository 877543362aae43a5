// The physical limit for bench/seqpacket.mjs: AF_UNIX SOCK_SEQPACKET over a socketpair
// between two processes, plain blocking send()/recv(), one message per system call.
//   seqpacket-baseline oneway SIZE COUNT     child sends COUNT messages, parent receives
//   seqpacket-baseline pingpong SIZE COUNT   parent sends, child echoes, COUNT round trips
// Prints one JSON line: {"mode","size","count","seconds","perSecond","mbPerSecond",
// "cpuMicrosPerMessage"} (user + system time of both processes per message or round trip).
// The parent's clock starts at the first message received (one-way) or after a warm-up of
// 1000 round trips (ping-pong), so process start-up is not measured.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double micros(struct timeval t) { return (double)t.tv_sec * 1e6 + (double)t.tv_usec; }

static void die(const char* what) {
  perror(what);
  exit(2);
}

static void send_all(int fd, const char* buf, size_t size) {
  ssize_t r;
  do r = send(fd, buf, size, 0);
  while (r < 0 && errno == EINTR);
  if (r != (ssize_t)size) die("send");
}

static size_t recv_one(int fd, char* buf, size_t cap) {
  ssize_t r;
  do r = recv(fd, buf, cap, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) die("recv");
  return (size_t)r;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s oneway|pingpong SIZE COUNT\n", argv[0]);
    return 2;
  }
  int pingpong = strcmp(argv[1], "pingpong") == 0;
  if (!pingpong && strcmp(argv[1], "oneway") != 0) {
    fprintf(stderr, "mode must be oneway or pingpong\n");
    return 2;
  }
  size_t size = strtoul(argv[2], NULL, 10);
  long count = strtol(argv[3], NULL, 10);
  if (size == 0 || count <= 0) {
    fprintf(stderr, "SIZE and COUNT must be positive\n");
    return 2;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) die("socketpair");
  size_t cap = size + 1;
  char* buf = calloc(1, cap);
  if (buf == NULL) die("calloc");
  long warmup = pingpong ? 1000 : 0;
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(sv[0]);
    if (pingpong) {
      for (long i = 0; i < count + warmup; i++) {
        size_t n = recv_one(sv[1], buf, cap);
        send_all(sv[1], buf, n);
      }
    } else {
      for (long i = 0; i < count; i++) send_all(sv[1], buf, size);
    }
    _exit(0);
  }
  close(sv[1]);
  double t0 = 0;
  if (pingpong) {
    for (long i = 0; i < count + warmup; i++) {
      if (i == warmup) t0 = now();
      send_all(sv[0], buf, size);
      if (recv_one(sv[0], buf, cap) != size) die("short echo");
    }
  } else {
    for (long i = 0; i < count; i++) {
      if (recv_one(sv[0], buf, cap) != size) die("short message");
      if (i == 0) t0 = now();
    }
  }
  double seconds = now() - t0;
  long measured = pingpong ? count : count - 1;
  int status;
  struct rusage self, kid;
  wait4(child, &status, 0, &kid);
  getrusage(RUSAGE_SELF, &self);
  double cpu = micros(self.ru_utime) + micros(self.ru_stime) + micros(kid.ru_utime) + micros(kid.ru_stime);
  printf("{\"mode\":\"%s\",\"size\":%zu,\"count\":%ld,\"seconds\":%.6f,\"perSecond\":%.1f,\"mbPerSecond\":%.1f,\"cpuMicrosPerMessage\":%.3f}\n",
         argv[1], size, measured, seconds, measured / seconds, measured * (double)size / seconds / 1e6, cpu / (double)count);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
