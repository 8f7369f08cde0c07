#pragma once
// Free loopback ports for servers the tests start. A port is drawn at random below
// Linux's ephemeral range (32768-60999), where the kernel never hands one to an outgoing
// connection, so a port chosen here cannot be taken meanwhile by some test's client
// socket; it is checked free by binding it once. Parallel tests collide only if they draw
// the same port within a moment, and the draw checks that.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>

namespace ashlar::test {

// Whether a TCP socket can bind 127.0.0.1:port right now (0: the port the kernel gives).
inline int bind_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  int bound = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) bound = ntohs(addr.sin_port);
  }
  ::close(fd);
  return bound;
}

// A port on 127.0.0.1 nothing listens on now (ZeroMQ and nats-server bind with
// SO_REUSEADDR, so the check's own socket does not hold it).
inline int free_tcp_port() {
  static std::mt19937 draw(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> below_ephemeral(20000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt)
    if (int port = bind_loopback(below_ephemeral(draw)); port > 0) return port;
  int port = bind_loopback(0);  // a machine with that whole range in use: the kernel's choice
  REQUIRE(port > 0);
  return port;
}

}  // namespace ashlar::test
