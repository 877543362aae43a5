// Conversions between JS address arguments and struct sockaddr.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace netdiag {

// family: 4, 6 or 1 (unix). For unix, address is a path; a leading '@' means abstract.
// An IPv6 address may carry a zone, 'fe80::1%eth0' or 'fe80::1%2' (as getaddrinfo takes it): the
// zone becomes sin6_scope_id, and must agree with a nonzero scope_id.
// Throws a RangeError naming the address when it does not parse or names no interface.
socklen_t ParseSockaddr(Napi::Env env, int family, const std::string& address, uint32_t port,
                        uint32_t scope_id, sockaddr_storage* out);

// {family: 4|6, address, port, scopeId} or {family: 1, path} (path '@name' when abstract,
// null when unbound).
Napi::Object SockaddrToObject(Napi::Env env, const sockaddr_storage* sa, socklen_t len);

// Raw form used by the batched calls: 16 address bytes (IPv4 in the first 4), family 4/6/0.
void SockaddrToRaw(const sockaddr_storage* sa, uint8_t* bytes16, int* family, int* port, uint32_t* scope_id);
socklen_t RawToSockaddr(int family, const uint8_t* bytes16, int port, uint32_t scope_id, sockaddr_storage* out);

// The index of the interface a zone names ('eth0', or a decimal index of an existing
// interface), 0 when there is none. Asks the kernel of the calling thread's network namespace.
uint32_t ZoneToScopeId(const std::string& zone);

// Exports interfaceIndex(name) -> index or 0, interfaceName(index) -> name or null.
void InitSockaddr(Napi::Env env, Napi::Object exports);

}  // namespace netdiag
