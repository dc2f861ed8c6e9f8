{
  "targets": [
    {
      "target_name": "shmring",
      "sources": [
        "native/addon.cc",
        "native/segment.cc",
        "native/futex.cc",
        "native/queues.cc",
        "native/loop-poll.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden"],
      "ldflags": ["-Wl,-z,nodelete"],
      "libraries": ["-lrt"]
    }
  ]
}
