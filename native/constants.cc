// The kernel constants JS needs to call the generic socket functions.
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <time.h>
#include <linux/errqueue.h>

#include "common.h"

#ifndef ICMPV6_FILTER
#define ICMPV6_FILTER 1
#endif

namespace netdiag {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object c = Napi::Object::New(env);
#define C(name) c.Set(#name, Napi::Number::New(env, name))
  C(AF_INET); C(AF_INET6); C(AF_UNIX);
  C(SOCK_STREAM); C(SOCK_DGRAM); C(SOCK_RAW); C(SOCK_SEQPACKET);
  C(IPPROTO_IP); C(IPPROTO_IPV6); C(IPPROTO_ICMP); C(IPPROTO_ICMPV6); C(IPPROTO_UDP); C(IPPROTO_TCP);
  C(SOL_SOCKET); C(SO_RCVBUF); C(SO_RCVBUFFORCE); C(SO_SNDBUF); C(SO_SNDBUFFORCE); C(SO_TIMESTAMPNS);
  C(SO_MARK); C(SO_BINDTODEVICE); C(SO_ERROR); C(SO_REUSEADDR); C(SO_PEERCRED); C(SO_PASSCRED);
  C(SO_DOMAIN); C(SO_TYPE); C(SO_PROTOCOL); C(SO_RXQ_OVFL); C(SO_DETACH_FILTER);
  C(IP_TTL); C(IP_TOS); C(IP_RECVERR); C(IP_RECVTTL); C(IP_RECVTOS); C(IP_MTU_DISCOVER); C(IP_MTU);
  C(IP_HDRINCL); C(IP_PMTUDISC_DONT); C(IP_PMTUDISC_WANT); C(IP_PMTUDISC_DO); C(IP_PMTUDISC_PROBE);
  C(IP_MULTICAST_TTL); C(IP_PKTINFO); C(IP_RECVERR_RFC4884);
  C(IPV6_UNICAST_HOPS); C(IPV6_TCLASS); C(IPV6_RECVERR); C(IPV6_RECVHOPLIMIT); C(IPV6_RECVTCLASS);
  C(IPV6_MTU_DISCOVER); C(IPV6_MTU); C(IPV6_PMTUDISC_DONT); C(IPV6_PMTUDISC_WANT); C(IPV6_PMTUDISC_DO);
  C(IPV6_PMTUDISC_PROBE); C(IPV6_V6ONLY); C(IPV6_CHECKSUM); C(IPV6_RECVPKTINFO); C(IPV6_RECVERR_RFC4884);
  C(IPV6_FLOWLABEL_MGR); C(IPV6_FLOWINFO_SEND); C(IPV6_AUTOFLOWLABEL); C(IPV6_FL_A_GET); C(IPV6_FL_F_CREATE); C(IPV6_FL_S_EXCL);
  C(ICMP_FILTER); C(ICMPV6_FILTER);
  C(SHUT_RD); C(SHUT_WR); C(SHUT_RDWR);
  C(SO_EE_ORIGIN_NONE); C(SO_EE_ORIGIN_LOCAL); C(SO_EE_ORIGIN_ICMP); C(SO_EE_ORIGIN_ICMP6);
#undef C
  exports.Set("constants", c);
}

}  // namespace netdiag
