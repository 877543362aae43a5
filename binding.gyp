{
  "targets": [
    {
      "target_name": "netdiag",
      "sources": [
        "native/addon.cc",
        "native/common.cc",
        "native/constants.cc",
        "native/sockaddr.cc",
        "native/socket_ops.cc",
        "native/datagram_io.cc",
        "native/stream_io.cc",
        "native/fd_registry.cc",
        "native/poller.cc",
        "native/capabilities.cc",
        "native/tun.cc",
        "native/glibc_compat.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"],
      "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", {
          "ldflags": ["-static-libstdc++", "-Wl,--gc-sections", "-Wl,--exclude-libs,ALL"]
        }]
      ]
    }
  ]
}
