{
  "targets": [
    {
      "target_name": "angel",
      "sources": ["native/glue.c", "native/sockets.c", "native/spawn.c", "native/watch.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
