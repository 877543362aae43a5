#include "sockaddr.h"

#include "common.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace netdiag {

socklen_t ParseSockaddr(Napi::Env env, int family, const std::string& address, uint32_t port,
                        uint32_t scope_id, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (port > 65535) throw Napi::RangeError::New(env, "port must be from 0 to 65535");
  if (family == 4 || family == 6) {
    uint8_t bytes[16] = {};
    size_t zone_at = family == 6 ? address.find('%') : std::string::npos;
    std::string text = address.substr(0, zone_at);
    if (text.find('\0') != std::string::npos || inet_pton(family == 4 ? AF_INET : AF_INET6, text.c_str(), bytes) != 1) {
      throw Napi::RangeError::New(env, "'" + address + "' is not an IPv" + std::to_string(family) + " address");
    }
    if (zone_at != std::string::npos) {
      uint32_t zone_id = ZoneToScopeId(address.substr(zone_at + 1));
      if (zone_id == 0) throw Napi::RangeError::New(env, "'" + address + "' names no network interface after %");
      if (scope_id != 0 && scope_id != zone_id) {
        throw Napi::RangeError::New(env, "'" + address + "' is interface " + std::to_string(zone_id) + ", but scopeId " +
                                             std::to_string(scope_id) + " was given");
      }
      scope_id = zone_id;
    }
    return RawToSockaddr(family, bytes, static_cast<int>(port), family == 6 ? scope_id : 0, out);
  }
  if (family == 1) {
    auto* sun = reinterpret_cast<sockaddr_un*>(out);
    sun->sun_family = AF_UNIX;
    bool abstract = !address.empty() && address[0] == '@';
    size_t n = address.size();
    if (n == 0) throw Napi::RangeError::New(env, "a unix socket path must not be empty");
    if (n > sizeof(sun->sun_path) - (abstract ? 0 : 1)) {
      throw Napi::RangeError::New(env, "unix socket path '" + address + "' is longer than " +
                                           std::to_string(sizeof(sun->sun_path) - 1) + " bytes");
    }
    if (!abstract && address.find('\0') != std::string::npos) {
      throw Napi::RangeError::New(env, "unix socket path must not contain NUL bytes");
    }
    std::memcpy(sun->sun_path, address.data(), n);
    if (abstract) sun->sun_path[0] = '\0';
    // abstract names are exactly as long as given; paths are NUL-terminated
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + (abstract ? 0 : 1));
  }
  throw Napi::RangeError::New(env, "address family must be 4, 6 or 1 (unix)");
}

Napi::Object SockaddrToObject(Napi::Env env, const sockaddr_storage* sa, socklen_t len) {
  Napi::Object o = Napi::Object::New(env);
  char buf[INET6_ADDRSTRLEN];
  if (sa->ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    o.Set("family", 4);
    o.Set("address", buf);
    o.Set("port", ntohs(sin->sin_port));
  } else if (sa->ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    o.Set("family", 6);
    o.Set("address", buf);
    o.Set("port", ntohs(sin6->sin6_port));
    o.Set("scopeId", sin6->sin6_scope_id);
  } else if (sa->ss_family == AF_UNIX) {
    auto* sun = reinterpret_cast<const sockaddr_un*>(sa);
    o.Set("family", 1);
    size_t off = offsetof(sockaddr_un, sun_path);
    if (len <= off) {
      o.Set("path", env.Null());
    } else if (sun->sun_path[0] == '\0') {
      o.Set("path", "@" + std::string(sun->sun_path + 1, len - off - 1));
    } else {
      o.Set("path", std::string(sun->sun_path, strnlen(sun->sun_path, len - off)));
    }
  } else {
    o.Set("family", 0);
  }
  return o;
}

void SockaddrToRaw(const sockaddr_storage* sa, uint8_t* bytes16, int* family, int* port, uint32_t* scope_id) {
  std::memset(bytes16, 0, 16);
  *port = 0;
  *scope_id = 0;
  if (sa->ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(bytes16, &sin->sin_addr, 4);
    *family = 4;
    *port = ntohs(sin->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(bytes16, &sin6->sin6_addr, 16);
    *family = 6;
    *port = ntohs(sin6->sin6_port);
    *scope_id = sin6->sin6_scope_id;
  } else {
    *family = 0;
  }
}

socklen_t RawToSockaddr(int family, const uint8_t* bytes16, int port, uint32_t scope_id, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&sin->sin_addr, bytes16, 4);
    return sizeof(sockaddr_in);
  }
  if (family == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    sin6->sin6_scope_id = scope_id;
    std::memcpy(&sin6->sin6_addr, bytes16, 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

uint32_t ZoneToScopeId(const std::string& zone) {
  if (zone.empty() || zone.size() >= IF_NAMESIZE || zone.find('\0') != std::string::npos) return 0;
  // a name first, then a decimal index, as glibc's getaddrinfo reads a zone
  unsigned int index = if_nametoindex(zone.c_str());
  if (index != 0) return index;
  if (zone.find_first_not_of("0123456789") != std::string::npos || zone.size() > 10) return 0;
  unsigned long number = std::stoul(zone);
  char name[IF_NAMESIZE];
  if (number == 0 || number > 0x7fffffff || if_indextoname(static_cast<unsigned int>(number), name) == nullptr) return 0;
  return static_cast<uint32_t>(number);
}

static Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  const Args args(info);
  std::string name = args.String(0, "name");
  if (name.empty() || name.size() >= IF_NAMESIZE || name.find('\0') != std::string::npos) {
    return Napi::Number::New(info.Env(), 0);
  }
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

static Napi::Value InterfaceName(const Napi::CallbackInfo& info) {
  const Args args(info);
  uint32_t index = args.Uint(0, "index");
  char name[IF_NAMESIZE];
  if (index == 0 || if_indextoname(index, name) == nullptr) return info.Env().Null();
  return Napi::String::New(info.Env(), name);
}

void InitSockaddr(Napi::Env env, Napi::Object exports) {
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex, "interfaceIndex"));
  exports.Set("interfaceName", Napi::Function::New(env, InterfaceName, "interfaceName"));
}

}  // namespace netdiag
