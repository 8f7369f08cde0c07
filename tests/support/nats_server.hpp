#pragma once
// A real nats-server with JetStream for tests: on 127.0.0.1, a free port, its store in a
// directory the test owns; stopped (or killed) when the object goes. A machine without
// nats-server fails the test saying so: scripts/install-deps.sh installs it.
//
// The binary is the one CMake found (ASHLAR_NATS_SERVER, empty when none).

#include "notifiers/child_process.hpp"
#include "support/ports.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef ASHLAR_NATS_SERVER
#define ASHLAR_NATS_SERVER ""
#endif

namespace ashlar::test {

// A loopback port nothing listens on right now (support/ports.hpp).
inline int free_port() { return free_tcp_port(); }

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

class NatsServer {
 public:
  // A server with JetStream storing under `dir` (created); `extra` arguments for a cluster.
  explicit NatsServer(std::string dir, std::vector<std::string> extra = {})
      : dir_(std::move(dir)), extra_(std::move(extra)), port_(free_port()) {
    std::string binary = ASHLAR_NATS_SERVER;
    if (binary.empty() || !std::filesystem::exists(binary))
      FAIL("nats-server is not installed (Debian package nats-server; scripts/install-deps.sh installs it): "
           "the JetStream tests need a real server");
    binary_ = binary;
    std::filesystem::create_directories(dir_);
    start();
  }

  void start() {
    std::vector<std::string> argv{binary_, "-js", "-a", "127.0.0.1", "-p", std::to_string(port_), "-sd", dir_ + "/js"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    process_ = std::make_unique<ChildProcess>(argv, dir_ + "/server.out", dir_ + "/server.err");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!port_open(port_)) {
      INFO(read_file(dir_ + "/server.err"));
      REQUIRE_FALSE(process_->wait(std::chrono::milliseconds(0)).has_value());  // it did not exit
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // A clean shutdown (SIGTERM): what JetStream acknowledged is on disk.
  void stop() {
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(10))) process_->kill();
    process_.reset();
  }
  void kill() {
    process_->kill();
    process_.reset();
  }
  bool running() const { return process_ != nullptr; }

  int port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  std::string binary_;
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace ashlar::test
