// The replay service's request handling, as any client on the network reaches it: each
// input is one request sent from a DEALER socket over ipc:// to the service the engine
// runs for a small store (fuzz_store.hpp). Every request must be answered within a bound, and the answer
// must be JSON with "ok"; a request that gets no answer, or garbage, is a finding.
// (The handler is private to the notifiers library, so the target goes through a socket.)
#include "fuzz_store.hpp"

#include <ashlar/notifiers/replay_service.hpp>

#include <nlohmann/json.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <vector>

namespace {

using namespace ashlar;

struct Client {
  std::unique_ptr<Log> log = fuzz::open_item_log();
  std::unique_ptr<ReplayService> service;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::dealer};
  std::uint64_t sent = 0;

  Client() {
    std::string endpoint = "ipc://" + fuzz::store_dir() + "/replay";
    // A batch of 2 makes a request for the whole log take several replies.
    auto started = ReplayService::start(*log, {.endpoint = endpoint, .batch = 2});
    if (!started) {
      std::fprintf(stderr, "replay service: %s\n", started.error().describe().c_str());
      std::abort();
    }
    service = std::move(*started);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
  }
};

Client& client() {
  static Client c;
  return c;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
}

// Whether a reply arrives in time; libFuzzer's timer signal interrupts the poll (EINTR).
bool wait_for_reply(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    try {
      if (zmq::poll(&item, 1, left) > 0) return true;
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Client& c = client();
  std::array<zmq::const_buffer, 2> request = {zmq::const_buffer(nullptr, 0), zmq::const_buffer(data, size)};
  if (!zmq::send_multipart(c.socket, request)) fail("the request could not be sent");
  ++c.sent;
  // A DEALER gets [""] + the reply's frames: a JSON header, then the events it carries.
  if (!wait_for_reply(c.socket, std::chrono::seconds(10)))
    fail("the replay service did not answer request " + std::to_string(c.sent) + " within 10 s");
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(c.socket, std::back_inserter(frames))) fail("the reply could not be received");
  if (frames.size() < 2 || frames[0].size() != 0) fail("the reply is not [\"\", header, events...]");
  auto header = nlohmann::json::parse(frames[1].to_string_view(), nullptr, false);
  if (!header.is_object() || !header.contains("ok") || !header["ok"].is_boolean())
    fail("the reply's header is not a JSON object with \"ok\": " + frames[1].to_string());
  return 0;
}
