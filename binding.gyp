{
  "targets": [
    {
      "target_name": "angel",
      "sources": ["native/accounts.c", "native/addon.c", "native/js.c", "native/process.c", "native/fds.c", "native/watch.c", "native/events.c", "native/spawn.c", "native/notify.c", "native/rights.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
