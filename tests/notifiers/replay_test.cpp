// The replay service as a client in any language sees it: a REQ socket, JSON requests,
// a JSON header and one frame per event in reply.
#include "notify_helpers.hpp"

#include <nlohmann/json.hpp>

using namespace ashlar;
using namespace ashlar::test;
using nlohmann::json;

namespace {

struct RawReplayClient {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::req};

  explicit RawReplayClient(const std::string& endpoint) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, 5000);  // a bug fails the test instead of hanging it
    socket.connect(endpoint);
  }
  // The reply's header and its event frames.
  std::pair<json, std::vector<std::string>> ask(const std::string& request) {
    socket.send(zmq::buffer(request));
    std::vector<zmq::message_t> frames;
    auto received = zmq::recv_multipart(socket, std::back_inserter(frames));
    REQUIRE(received.has_value());
    REQUIRE(!frames.empty());
    std::vector<std::string> events;
    for (std::size_t i = 1; i < frames.size(); ++i) events.push_back(frames[i].to_string());
    return {json::parse(frames[0].to_string_view()), events};
  }
  std::pair<json, std::vector<std::string>> ask(const json& request) { return ask(request.dump()); }
};

std::vector<std::uint64_t> positions(const std::vector<std::string>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& bytes : events) out.push_back(decode_event(bytes).value().position);
  return out;
}

}  // namespace

TEST_CASE("hello tells where a stream starts, the heads and the stored model") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  auto alice = create_user(source, 1);
  source.create("Comment", {{"content", "a"}, {"user_id", alice}});
  create_user(source, 2);
  source.create("Comment", {{"content", "b"}, {"user_id", alice}});  // positions: U C U C
  auto service = ReplayService::start(source.log(), {.endpoint = "ipc://" + dir.sub("r.sock")}).value();
  RawReplayClient client(service->endpoint());

  auto [hello, none] = client.ask(json{{"op", "hello"}, {"id", 7}});
  CHECK(none.empty());
  CHECK(hello["ok"] == true);
  CHECK(hello["id"] == 7);
  CHECK(hello["domain"] == "blog");
  CHECK(hello["head"] == 4);
  CHECK(hello["hash"] == to_hex(source.log().head().value().hash));
  CHECK(hello["sequences"] == json{{"Comment", 2}, {"Tag", 0}, {"User", 2}});
  CHECK(hello["start"] == 1);
  CHECK(hello["last"] == 4);
  CHECK(hello["model"]["domain"] == "blog");
  CHECK(hello["model"]["resources"][0]["name"] == "User");

  CHECK(client.ask(json{{"op", "hello"}, {"after", 3}}).first["start"] == 4);
  CHECK(client.ask(json{{"op", "hello"}, {"now", true}}).first["start"] == 5);
  auto comments = client.ask(json{{"op", "hello"}, {"resource", "Comment"}, {"after", 2}}).first;
  CHECK(comments["start"] == 2);  // Comment's event after position 2 is its second
  CHECK(comments["last"] == 2);
  auto head = client.ask(json{{"op", "head"}}).first;
  CHECK(head["head"] == 4);
  CHECK_FALSE(head.contains("model"));
  CHECK(service->requests() == 5);
}

TEST_CASE("replay serves a range of the domain's stream or of one resource's, in batches") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  for (int i = 0; i < 30; ++i) {
    auto user = create_user(source, i);
    if (i % 2 == 0) source.create("Comment", {{"content", "c"}, {"user_id", user}});
  }  // 45 events; Comments at positions 2, 5, 8, ...
  auto service =
      ReplayService::start(source.log(), {.endpoint = "tcp://127.0.0.1:*", .batch = 10}).value();
  CHECK(service->endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
  RawReplayClient client(service->endpoint());

  auto [header, events] = client.ask(json{{"op", "replay"}, {"id", "a"}, {"from", 41}, {"limit", 100}});
  CHECK(header["ok"] == true);
  CHECK(header["id"] == "a");
  CHECK(header["count"] == 5);
  CHECK(header["last"] == 45);
  CHECK(header["head"] == 45);
  CHECK(positions(events) == std::vector<std::uint64_t>{41, 42, 43, 44, 45});
  CHECK(events[0] == all_events(source.log(), 41)[0].bytes);

  auto capped = client.ask(json{{"op", "replay"}, {"from", 1}, {"limit", 1000}});
  CHECK(capped.second.size() == 10);  // the service's batch
  CHECK(client.ask(json{{"op", "replay"}, {"from", 3}, {"limit", 2}}).second.size() == 2);
  auto past = client.ask(json{{"op", "replay"}, {"from", 46}});
  CHECK(past.first["count"] == 0);
  CHECK(past.second.empty());

  auto [comments, bytes] = client.ask(json{{"op", "replay"}, {"resource", "Comment"}, {"from", 14}});
  CHECK(comments["count"] == 2);
  CHECK(comments["last"] == 15);
  REQUIRE(bytes.size() == 2);
  auto last = decode_event(bytes[1]).value();
  CHECK(last.resource == "Comment");
  CHECK(last.sequence == 15);
  CHECK(last.position == 44);
}

TEST_CASE("replay with a tenant serves that tenant's events alone, and says how far they account for the stream") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  const char* tenants[] = {"acme", "globex", "initech", ""};
  for (int i = 0; i < 40; ++i) {  // acme at positions 1, 5, 9, ...; no tenant at 4, 8, ...
    Event e = source.creation(i % 2 ? "User" : "Comment", {{"name", "n" + std::to_string(i)}});
    e.tenant = tenants[i % 4];
    source.commit({e});
  }
  auto service = ReplayService::start(source.log(), {.endpoint = "ipc://" + dir.sub("r.sock"), .batch = 3}).value();
  RawReplayClient client(service->endpoint());

  auto [header, events] = client.ask(json{{"op", "replay"}, {"from", 2}, {"tenant", "acme"}});
  CHECK(header["ok"] == true);
  CHECK(header["tenant"] == "acme");
  CHECK(positions(events) == std::vector<std::uint64_t>{5, 9, 13});  // the batch is full at 13
  CHECK(header["through"] == 13);
  CHECK(header["last"] == 40);

  auto tail = client.ask(json{{"op", "replay"}, {"from", 35}, {"tenant", "acme"}});
  CHECK(positions(tail.second) == std::vector<std::uint64_t>{37});
  CHECK(tail.first["through"] == 40);  // ran to the end: nothing of acme's up to the head is missing
  auto past = client.ask(json{{"op", "replay"}, {"from", 41}, {"tenant", "acme"}}).first;
  CHECK(past["count"] == 0);
  CHECK(past["through"] == 40);

  auto none = client.ask(json{{"op", "replay"}, {"from", 30}, {"tenant", ""}});  // calls without a tenant
  CHECK(positions(none.second) == std::vector<std::uint64_t>{32, 36, 40});
  auto users = client.ask(json{{"op", "replay"}, {"resource", "User"}, {"from", 1}, {"tenant", "globex"}});
  CHECK(positions(users.second) == std::vector<std::uint64_t>{2, 6, 10});  // User's sequences 1, 3, 5
  CHECK(users.first["through"] == 5);
  auto nobody = client.ask(json{{"op", "replay"}, {"from", 1}, {"tenant", "umbrella"}});
  CHECK(nobody.first["count"] == 0);
  CHECK(nobody.first["through"] == 40);

  // Without "tenant", as before: every event, no "through".
  auto plain = client.ask(json{{"op", "replay"}, {"from", 1}});
  CHECK(positions(plain.second) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK_FALSE(plain.first.contains("through"));
  CHECK_FALSE(plain.first.contains("tenant"));

  auto hello = client.ask(json{{"op", "hello"}, {"tenant", "acme"}, {"after", 4}}).first;
  CHECK(hello["tenant"] == "acme");
  CHECK(hello["start"] == 5);
  auto bad = client.ask(json{{"op", "replay"}, {"tenant", 7}}).first;
  CHECK(bad["ok"] == false);
  CHECK(bad["code"] == "invalid_input");
  CHECK(bad["error"] == "\"tenant\" must be a string");
}

TEST_CASE("a bad request gets an error reply naming the problem, and the service goes on") {
  TempDir dir;
  auto source = publishing_source(dir.sub("store"), {"", ""});
  create_user(source, 1);
  auto service = ReplayService::start(source.log(), {.endpoint = "ipc://" + dir.sub("r.sock")}).value();
  RawReplayClient client(service->endpoint());

  auto error_of = [&](const std::string& request) {
    auto reply = client.ask(request).first;
    CHECK(reply["ok"] == false);
    return reply["error"].get<std::string>();
  };
  CHECK_THAT(error_of("not json"), Catch::StartsWith("the request is not JSON"));
  CHECK(error_of(R"({"id": 1})") == "a request is a JSON object with \"op\": \"hello\", \"head\" or \"replay\"");
  CHECK(error_of(R"({"op": "delete"})") == "unknown op \"delete\"; expected hello, head or replay");
  CHECK(error_of(R"({"op": "replay", "resource": "Post"})") == "domain blog has no resource named Post");
  CHECK(error_of(R"({"op": "replay", "from": "one"})") == "\"from\" must be a non-negative integer");
  CHECK(error_of(R"({"op": "hello", "after": -1})") == "\"after\" must be a non-negative integer");
  CHECK(client.ask(json{{"op", "replay"}}).first["count"] == 1);
  CHECK(service->requests() == 7);
}
