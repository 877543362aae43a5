// Conversions between JS address arguments and struct sockaddr.
#pragma once

#include <napi.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace netdiag {

// family: 4, 6 or 1 (unix). For unix, address is a path; a leading '@' means abstract.
// Throws a RangeError naming the address when it does not parse.
socklen_t ParseSockaddr(Napi::Env env, int family, const std::string& address, uint32_t port,
                        uint32_t scope_id, sockaddr_storage* out);

// {family: 4|6, address, port, scopeId} or {family: 1, path} (path '@name' when abstract,
// null when unbound).
Napi::Object SockaddrToObject(Napi::Env env, const sockaddr_storage* sa, socklen_t len);

// Raw form used by the batched calls: 16 address bytes (IPv4 in the first 4), family 4/6/0.
void SockaddrToRaw(const sockaddr_storage* sa, uint8_t* bytes16, int* family, int* port, uint32_t* scope_id);
socklen_t RawToSockaddr(int family, const uint8_t* bytes16, int port, uint32_t scope_id, sockaddr_storage* out);

}  // namespace netdiag
