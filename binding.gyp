{
  "variables": {
    # 1: the Node-API build (native/buffers.h), one binary for every Node that has
    # node_api_create_external_sharedarraybuffer; 0: the V8-API build of one Node major.
    "shmring_node_api_only%": 0
  },
  "targets": [
    {
      "target_name": "shmring",
      "sources": [
        "native/addon.cc",
        "native/buffers.cc",
        "native/segment.cc",
        "native/sigbus.cc",
        "native/futex.cc",
        "native/queues.cc",
        "native/loop-poll.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["shmring_node_api_only==1", { "defines": ["SHMRING_NODE_API_ONLY"] }]
      ],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-fvisibility=hidden"],
      "ldflags": ["-Wl,-z,nodelete"],
      "libraries": ["-lrt"]
    }
  ]
}
