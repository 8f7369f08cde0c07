// A writer killed (SIGKILL) under concurrent load, again and again: every action whose
// call returned success before the kill is in the store afterwards, and the store
// verifies. The writer is a forked child; its callers acknowledge each create on a pipe.
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

Domain ledger() {
  return domain("ledger")
      .resource(resource("Entry")
                    .attribute("key", type::string, {.primary_key = true})
                    .attribute("amount", type::integer)
                    .defaults({"read", "create:*"}))
      .build()
      .value();
}

// The child: callers creating entries until killed, each writing "key\n" to `ack` once
// its create returned success (durably committed: Durability::sync).
[[noreturn]] void write_until_killed(const std::string& dir, int round, int ack) {
  auto engine = Engine::open(dir, ledger());
  if (!engine) _exit(3);
  constexpr int kCallers = 8;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      for (int i = 0; i < 100000; ++i) {
        std::string key = fmt::format("r{}-c{}-{}", round, c, i);
        if (!engine->create("Entry", {{"key", key}, {"amount", i}})) _exit(4);
        std::string line = key + "\n";
        if (::write(ack, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
      }
    });
  for (auto& t : callers) t.join();
  _exit(0);
}

// Reads acknowledgements until `for_how_long` passes; returns the keys acknowledged.
std::vector<std::string> acknowledged(int fd, std::chrono::milliseconds for_how_long, std::string& partial) {
  std::vector<std::string> keys;
  auto until = Clock::now() + for_how_long;
  char buf[4096];
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
      keys.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  return keys;
}

}  // namespace

TEST_CASE("a writer SIGKILLed under concurrent load loses no acknowledged action", "[slow]") {
  TempDir dir;
  std::mt19937 rng(2026);
  std::set<std::string> acked;
  constexpr int kKills = 12;
  for (int round = 0; round < kKills; ++round) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      write_until_killed(dir.path(), round, fds[1]);
    }
    ::close(fds[1]);
    std::string partial;
    auto keys = acknowledged(fds[0], std::chrono::milliseconds(100 + rng() % 300), partial);
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    // What was written to the pipe before the kill is acknowledged too.
    auto rest = acknowledged(fds[0], std::chrono::milliseconds(50), partial);
    ::close(fds[0]);
    keys.insert(keys.end(), rest.begin(), rest.end());
    acked.insert(keys.begin(), keys.end());

    auto engine = Engine::open(dir.path(), ledger()).value();
    for (const auto& key : keys) {
      INFO("round " << round << ", acknowledged " << key);
      CHECK(engine.get("Entry", key).has_value());
    }
    auto report = engine.verify().value();
    CHECK(report.problems.empty());
  }
  auto engine = Engine::open(dir.path(), ledger()).value();
  CHECK(engine.read("Entry").value().size() >= acked.size());
  CHECK(acked.size() > 0);
}
