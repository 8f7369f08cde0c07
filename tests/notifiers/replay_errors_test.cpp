// A store holding an event that does not decode: the replay service answers every
// request — the events before it, then an error naming its position — and a Subscriber
// delivers those events and then returns the error, instead of waiting forever.
#include "damaged_store.hpp"
#include "notify_helpers.hpp"
#include "support/within_limits.hpp"

#include <nlohmann/json.hpp>

using namespace ashlar;
using namespace ashlar::test;
using nlohmann::json;

namespace {

// A DEALER as any client has one, every wait bounded.
struct Client {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::dealer};

  explicit Client(const std::string& endpoint) {
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
  }
  // The reply's header and how many event frames followed; a test failure when none
  // arrives within `limit`.
  std::pair<json, std::size_t> ask(const json& request, std::chrono::milliseconds limit = 5s) {
    socket.send(zmq::message_t(), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(request.dump()));
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    INFO(request.dump());
    REQUIRE(zmq::poll(items, 1, limit) == 1);
    std::vector<zmq::message_t> frames;
    REQUIRE(zmq::recv_multipart(socket, std::back_inserter(frames)));
    REQUIRE(frames.size() >= 2);
    CHECK(frames[0].size() == 0);
    return {json::parse(frames[1].to_string_view()), frames.size() - 2};
  }
};

std::unique_ptr<ReplayService> serve(const Log& log, const TempDir& dir) {
  return ReplayService::start(log, {.endpoint = "ipc://" + dir.sub("replay.sock")}).value();
}

}  // namespace

TEST_CASE("replay serves the events before one that does not decode, then an error naming its position") {
  TempDir dir;
  StoreWithBadEvent store = store_with_bad_event(dir.sub("store"), 6, 4);
  auto log = Log::open_read_only(store.path).value();
  auto service = serve(*log, dir);
  Client client(service->endpoint());
  // Decoding the crafted event must not make this process reserve memory for its claim.
  AddressSpaceLimit limit(std::size_t{1} << 30);

  for (const char* resource : {"", "User"}) {  // the domain's stream and the resource's
    INFO("resource \"" << resource << "\"");
    json request = {{"op", "replay"}, {"id", 1}, {"from", 1}, {"limit", 100}};
    if (*resource) request["resource"] = resource;
    auto [before, count] = client.ask(request);
    CHECK(before["ok"] == true);
    CHECK(before["count"] == 3);
    CHECK(count == 3);
    CHECK(before["last"] == 6);

    request["from"] = 4;
    request["id"] = 2;
    auto [bad, none] = client.ask(request);
    CHECK(bad == json{{"ok", false},
                      {"id", 2},
                      {"code", "decode_error"},
                      {"error", store.decode_error()}});
    CHECK(none == 0);

    request["from"] = 5;  // past it, the stream goes on
    auto [after, rest] = client.ask(request);
    CHECK(after["count"] == 2);
    CHECK(rest == 2);
  }
  CHECK(service->requests() == 6);
}

TEST_CASE("a subscriber delivers the events before one that does not decode, then returns its error") {
  TempDir dir;
  StoreWithBadEvent store = store_with_bad_event(dir.sub("store"), 6, 4);
  auto log = Log::open_read_only(store.path).value();
  auto service = serve(*log, dir);
  AddressSpaceLimit limit(std::size_t{1} << 30);

  // Nothing publishes: what is in the store arrives through the replay service only.
  auto sub = Subscriber::connect({.publish = "ipc://" + dir.sub("nobody.sock"),
                                  .replay = service->endpoint(),
                                  .start = StartAt::beginning()})
                 .value();
  auto events = take(*sub, 3, 5s);
  CHECK(consecutive(events, 1));

  auto deadline = Clock::now() + 5s;
  Result<std::optional<ReceivedEvent>> next = std::optional<ReceivedEvent>();
  for (int i = 0; i < 100 && Clock::now() < deadline; ++i) {
    next = sub->next(100ms);
    if (!next || *next) break;
  }
  REQUIRE_FALSE(next.has_value());
  CHECK(next.error().code == codes::kDecodeError);
  CHECK(next.error().message ==
        "the replay service at " + service->endpoint() + " failed: " + store.decode_error());
  CHECK(sub->position() == 3);

  // Asked again, it fails again at once: the event is still there.
  auto again = sub->next(2s);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == codes::kDecodeError);
}
