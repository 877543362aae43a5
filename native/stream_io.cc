// Message I/O for AF_UNIX SOCK_SEQPACKET: batched sendmsg/recvmsg with SCM_RIGHTS and
// peer credentials. (Filled in by the seqpacket work.)
#include "common.h"

namespace netdiag {

void InitStreamIo(Napi::Env, Napi::Object) {}

}  // namespace netdiag
