rockspec_format = "3.0"
package = "hotline"
version = "scm-1"
source = {
   -- "luarocks make rockspec/hotline-scm-1.rockspec" builds from the checkout
   url = "git+file://.",
}
description = {
   summary = "BSD sockets for Lua, with coroutine tasks and a per-caller server",
   detailed = [[
hotline gives Lua the BSD socket calls (socket, bind, listen, accept,
connect, read, write, close) plus options, timeouts, UDP, unix sockets,
IPv6, name resolution and readiness polling. The same calls block in a
plain script and suspend only the calling task inside hotline.spawn;
hotline.serve runs every accepted connection in its own task.
]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1",
}
-- TLS on OpenSSL 3 (Debian libssl-dev); c-ares for name resolution
external_dependencies = {
   OPENSSL = { header = "openssl/ssl.h", library = "ssl" },
   CARES = { header = "ares.h", library = "cares" },
}
build = {
   type = "builtin",
   modules = {
      ["hotline.core"] = {
         sources = {
            "csrc/hotline.c", "csrc/hl_addr.c", "csrc/hl_error.c", "csrc/hl_io.c",
            "csrc/hl_option.c", "csrc/hl_poll.c", "csrc/hl_poll_epoll.c",
            "csrc/hl_poll_poll.c", "csrc/hl_process.c", "csrc/hl_rbuf.c",
            "csrc/hl_socket.c", "csrc/hl_trace.c", "csrc/hl_wait.c",
            "csrc/hl_resolve.c", "csrc/hl_query.c",
            "csrc/hl_tls.c", "csrc/hl_tls_bio.c", "csrc/hl_tls_context.c", "csrc/hl_tls_info.c",
         },
         incdirs = { "csrc", "$(OPENSSL_INCDIR)", "$(CARES_INCDIR)" },
         libdirs = { "$(OPENSSL_LIBDIR)", "$(CARES_LIBDIR)" },
         libraries = { "ssl", "crypto", "cares" },
         defines = { "_GNU_SOURCE" },
      },
      ["hotline"] = "lua/hotline/init.lua",
      ["hotline.loop"] = "lua/hotline/loop.lua",
      ["hotline.heap"] = "lua/hotline/heap.lua",
      ["hotline.await_any"] = "lua/hotline/await_any.lua",
      ["hotline.signals"] = "lua/hotline/signals.lua",
      ["hotline.suspend"] = "lua/hotline/suspend.lua",
      ["hotline.task"] = "lua/hotline/task.lua",
      ["hotline.sync"] = "lua/hotline/sync.lua",
      ["hotline.socket"] = "lua/hotline/socket.lua",
      ["hotline.server"] = "lua/hotline/server.lua",
      ["hotline.workers"] = "lua/hotline/workers.lua",
      ["hotline.resolver"] = "lua/hotline/resolver.lua",
      ["hotline.eyeballs"] = "lua/hotline/eyeballs.lua",
      ["hotline.luasocket"] = "lua/hotline/luasocket.lua",
      ["hotline.luasocket.base"] = "lua/hotline/luasocket/base.lua",
      ["hotline.luasocket.stream"] = "lua/hotline/luasocket/stream.lua",
      ["hotline.luasocket.tcp"] = "lua/hotline/luasocket/tcp.lua",
      ["hotline.luasocket.udp"] = "lua/hotline/luasocket/udp.lua",
      ["hotline.luasocket.unix"] = "lua/hotline/luasocket/unix.lua",
      ["hotline.luasocket.select"] = "lua/hotline/luasocket/select.lua",
      ["hotline.luasocket.watch"] = "lua/hotline/luasocket/watch.lua",
      ["hotline.luasocket.dns"] = "lua/hotline/luasocket/dns.lua",
      ["hotline.luasocket.protect"] = "lua/hotline/luasocket/protect.lua",
      ["hotline.luasocket.sinks"] = "lua/hotline/luasocket/sinks.lua",
      ["hotline.tls"] = "lua/hotline/tls.lua",
      ["hotline.demo.government"] = "lua/hotline/demo/government.lua",
      ["hotline.demo.entrepreneur"] = "lua/hotline/demo/entrepreneur.lua",
      ["hotline.demo.narrator"] = "lua/hotline/demo/narrator.lua",
      ["hotline.demo.cli"] = "lua/hotline/demo/cli.lua",
   },
   install = {
      bin = {
         ["hotline-government"] = "lua/hotline/demo/government.lua",
         ["hotline-entrepreneur"] = "lua/hotline/demo/entrepreneur.lua",
      },
   },
}
test = {
   type = "busted",
}
