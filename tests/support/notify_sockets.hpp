#pragma once
// Notifications on real sockets, as the notifier and runtime tests take them: endpoints on
// loopback and ipc only, a raw SUB socket, and taking events from a subscriber within a
// time limit. Needs the notifiers library and cppzmq.

#include <ashlar/notifiers/subscriber.hpp>
#include <ashlar/notifiers/topics.hpp>

#include "support/ports.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>


#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ashlar::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Endpoints {
  std::string publish;
  std::string replay;
};

// ipc sockets in the test's own directory: no port to collide with a parallel test.
inline Endpoints ipc_endpoints(const TempDir& dir) {
  return {"ipc://" + dir.sub("pub.sock"), "ipc://" + dir.sub("replay.sock")};
}

inline Endpoints tcp_endpoints() {
  return {"tcp://127.0.0.1:" + std::to_string(free_tcp_port()), "tcp://127.0.0.1:" + std::to_string(free_tcp_port())};
}

// Takes `count` events, failing the test when `limit` passes first or next() errs.
inline std::vector<ReceivedEvent> take(Subscriber& s, std::size_t count, std::chrono::milliseconds limit = 20s) {
  std::vector<ReceivedEvent> out;
  auto deadline = Clock::now() + limit;
  while (out.size() < count && Clock::now() < deadline) {
    auto next = s.next(100ms);
    REQUIRE(next.has_value());
    if (*next) out.push_back(std::move(**next));
  }
  INFO("took " << out.size() << " of " << count << " events");
  REQUIRE(out.size() == count);
  return out;
}

// Nothing more arrives within `wait`.
inline void expect_quiet(Subscriber& s, std::chrono::milliseconds wait = 300ms) {
  auto next = s.next(wait);
  REQUIRE(next.has_value());
  CHECK_FALSE(next->has_value());
}

// Positions first, first + 1, ... : in order, none twice, none missing.
inline bool consecutive(const std::vector<ReceivedEvent>& events, std::uint64_t first) {
  for (std::size_t i = 0; i < events.size(); ++i)
    if (events[i].event.position != first + i) return false;
  return true;
}

// Polls `condition` every few milliseconds for at most `limit`.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Waits until two heartbeats have reached `s` after this call: by then its subscription
// has long reached the publisher, and events arrive live rather than through replay.
inline void wait_until_live(Subscriber& s, std::chrono::milliseconds limit = 5s) {
  auto before = s.stats().heartbeats;
  REQUIRE(eventually(
      [&] {
        auto next = s.next(10ms);
        REQUIRE(next.has_value());
        REQUIRE_FALSE(next->has_value());  // callers wait only when nothing is due
        return s.stats().heartbeats >= before + 2;
      },
      limit));
}

// A raw SUB socket, as a consumer in any language has one. It also takes heartbeats,
// so that one arriving proves the subscription is in place at the publisher.
struct RawSubscriber {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::sub};
  std::vector<std::string> heartbeats;

  RawSubscriber(const std::string& endpoint, const std::string& prefix) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::subscribe, prefix);
    socket.set(zmq::sockopt::subscribe, kHeartbeatTopic);
    socket.connect(endpoint);
  }
  // [topic, body] event messages until `count` arrived or `limit` passed.
  std::vector<std::pair<std::string, std::string>> receive(std::size_t count, std::chrono::milliseconds limit = 5s) {
    std::vector<std::pair<std::string, std::string>> out;
    auto deadline = Clock::now() + limit;
    while (out.size() < count && Clock::now() < deadline) {
      zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, 20ms);
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) continue;
      REQUIRE(frames.size() == 2);
      if (frames[0].to_string_view() == kHeartbeatTopic)
        heartbeats.push_back(frames[1].to_string());
      else
        out.emplace_back(frames[0].to_string(), frames[1].to_string());
    }
    return out;
  }
  // Waits for a heartbeat: from then on the publisher sends this socket what it selects.
  void wait_for_heartbeat(std::chrono::milliseconds limit = 5s) {
    auto deadline = Clock::now() + limit;
    std::size_t before = heartbeats.size();
    while (heartbeats.size() == before && Clock::now() < deadline) CHECK(receive(1, 20ms).empty());
    REQUIRE(heartbeats.size() > before);
  }
};

}  // namespace ashlar::test
