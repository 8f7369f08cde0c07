// A store holding an event that does not decode: the replay service answers every
// request — the events before it, then an error naming its position — and a Subscriber
// delivers those events and then returns the error, instead of waiting forever.
#include "damaged_store.hpp"
#include "notify_helpers.hpp"
#include "support/within_limits.hpp"

#include <fmt/format.h>
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
    return send({request.dump()}, limit);
  }
  // The frames after the empty delimiter as they are, whatever they hold.
  std::pair<json, std::size_t> send(const std::vector<std::string>& parts, std::chrono::milliseconds limit = 5s) {
    socket.send(zmq::message_t(), zmq::send_flags::sndmore);
    for (std::size_t i = 0; i < parts.size(); ++i)
      socket.send(zmq::buffer(parts[i]), i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
    INFO(parts.front().substr(0, 200));
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

TEST_CASE("garbage, oversized and many-frame requests get error replies, and the service goes on") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  for (int i = 1; i <= 3; ++i) create_user(source, i);
  auto service = ReplayService::start(source.log(), {.endpoint = "tcp://127.0.0.1:*", .batch = 2,
                                                     .max_request = 1000})
                     .value();
  Client client(service->endpoint());
  Client other(service->endpoint());

  auto error = [](const std::pair<json, std::size_t>& reply) {
    CHECK(reply.second == 0);
    CHECK(reply.first["ok"] == false);
    return std::pair{reply.first["code"].get<std::string>(), reply.first["error"].get<std::string>()};
  };
  std::string binary("\x00\xff\xfe{\x01", 5);
  auto [garbage_code, garbage] = error(client.send({binary}));
  CHECK(garbage_code == "invalid_input");
  CHECK_THAT(garbage, Catch::StartsWith("the request is not JSON: "));
  CHECK(error(client.send({"[1, 2, 3]"})).second ==
        "a request is a JSON object with \"op\": \"hello\", \"head\" or \"replay\"");
  auto huge = error(client.send({R"({"op": "replay", "limit": 1e999})"}));
  CHECK(huge.first == "invalid_input");

  std::string big = json{{"op", "head"}, {"pad", std::string(1000, 'x')}}.dump();
  CHECK(error(client.send({big})) ==
        std::pair<std::string, std::string>{"too_complex", fmt::format("the request is {} bytes; this service "
                                                                       "takes requests of at most 1000",
                                                                       big.size())});
  std::string deep = std::string(500, '[') + std::string(500, ']');  // within the size limit
  CHECK_THAT(error(client.send({deep})).second, Catch::StartsWith("a request is a JSON object"));
  auto two = error(client.send({R"({"op": "head"})", R"({"op": "head"})"}));
  CHECK(two == std::pair<std::string, std::string>{"invalid_input",
                                                   "a request is one frame after the empty delimiter, not 2"});

  // The same client and another are served as before; a batch stays a batch.
  auto [replay, count] = client.ask({{"op", "replay"}, {"id", 9}, {"from", 1}, {"limit", 1000000}});
  CHECK(replay["ok"] == true);
  CHECK(replay["count"] == 2);
  CHECK(count == 2);
  CHECK(other.ask({{"op", "head"}}).first["head"] == 3);
  CHECK(service->requests() == 8);
}

TEST_CASE("a message far past the request limit closes its connection, and the service serves others") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  create_user(source, 1);
  auto service = ReplayService::start(source.log(), {.endpoint = "tcp://127.0.0.1:*", .max_request = 1000})
                     .value();
  Client flood(service->endpoint());
  flood.socket.send(zmq::message_t(), zmq::send_flags::sndmore);
  flood.socket.send(zmq::buffer(std::string(16001, 'x')));
  zmq::pollitem_t items[] = {{flood.socket.handle(), 0, ZMQ_POLLIN, 0}};
  CHECK(zmq::poll(items, 1, 500ms) == 0);  // never read, never answered

  Client client(service->endpoint());
  CHECK(client.ask({{"op", "head"}}).first["head"] == 1);
  CHECK(service->requests() == 1);
}
