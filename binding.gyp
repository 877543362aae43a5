{
  "variables": {
    # netdiag_test.node (native/testing/: TUN devices for netdiag/testing's path simulator) is
    # built next to netdiag.node, a separate addon so that netdiag.node holds no test code;
    # npm_config_netdiag_test_addon=false leaves it out. scripts/prebuild.sh ships both
    # (prebuilds/linux-<arch>/); src/testing/tun-addon.ts loads it, src/native.ts never does.
    "netdiag_test_addon%": "true"
  },
  "target_defaults": {
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
  },
  "targets": [
    {
      "target_name": "netdiag",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/common.cc",
        "native/constants.cc",
        "native/sockaddr.cc",
        "native/socket_ops.cc",
        "native/datagram_io.cc",
        "native/stream_io.cc",
        "native/fd_registry.cc",
        "native/poller.cc",
        "native/capabilities.cc",
        "native/clock.cc",
        "native/glibc_compat.cc",
        "native/sock_diag.cc"
      ]
    }
  ],
  "conditions": [
    ["netdiag_test_addon=='true'", {
      "targets": [
        {
          "target_name": "netdiag_test",
          "sources": [
            "native/testing/addon.cc",
            "native/testing/tun.cc",
            "native/args.cc",
            "native/common.cc",
            "native/glibc_compat.cc"
          ]
        }
      ]
    }]
  ]
}
