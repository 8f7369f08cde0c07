// The ZeroMQ publisher: two frames per committed event, heartbeats with the head, and a
// writer that never waits for it. (That a failed action publishes nothing, and that
// Engine::open starts publishing, is the runtime's part: tests/engine/notifications_test.cpp.)
#include "notify_helpers.hpp"

#include <ashlar/notifiers/publisher.hpp>

#include <nlohmann/json.hpp>

using namespace ashlar;
using namespace ashlar::test;

TEST_CASE("each committed event is published as its topic and its stored bytes") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  RawSubscriber raw(endpoints.publish, "blog.");
  raw.wait_for_heartbeat();

  auto alice = create_user(source, 1);
  auto comment = source.create("Comment", {{"content", "hi"}, {"user_id", alice}});
  source.update("User", alice, {{"age", 31}});

  auto messages = raw.receive(3);
  REQUIRE(messages.size() == 3);
  auto stored = all_events(source.log());
  CHECK(messages[0].first == "blog.User.create." + alice.as_uuid()->str());
  CHECK(messages[1].first == "blog.Comment.create." + comment.as_uuid()->str());
  CHECK(messages[2].first == "blog.User.update." + alice.as_uuid()->str());
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(messages[i].second == stored[i].bytes);  // the public schema, byte for byte
    auto event = decode_event(messages[i].second).value();
    CHECK(event.position == i + 1);
  }
  CHECK(decode_event(messages[1].second).value().sequence == 1);  // Comment's first
  CHECK(decode_event(messages[2].second).value().sequence == 2);  // User's second
}

TEST_CASE("the heartbeat carries the head and each resource's last sequence") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  for (int i = 0; i < 3; ++i) create_user(source, i);
  RawSubscriber raw(endpoints.publish, "nothing.");
  raw.wait_for_heartbeat();
  auto beat = nlohmann::json::parse(raw.heartbeats.back());
  CHECK(beat["domain"] == "blog");
  CHECK(beat["head"] == 3);
  CHECK(beat["sequences"] == nlohmann::json{{"Comment", 0}, {"Tag", 0}, {"User", 3}});
}

TEST_CASE("a full queue drops events instead of holding up the writer, and the heartbeat still covers them") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), {"", ""});
  for (int i = 0; i < 200; ++i) create_user(source, i);
  auto publisher = ZmqPublisher::start(source.log(), blog_domain(),
                                       {.endpoints = {endpoints.publish}, .queue_events = 10, .heartbeat = 50ms})
                       .value();
  RawSubscriber raw(endpoints.publish, "blog.");
  raw.wait_for_heartbeat();
  auto events = all_events(source.log());
  publisher->notify(events);  // one call: the publisher thread cannot drain in between
  auto messages = raw.receive(200, 500ms);
  CHECK(messages.size() == 10);
  CHECK(decode_event(messages.back().second).value().position == 10);
  auto stats = publisher->stats();
  CHECK(stats.published == 10);
  CHECK(stats.dropped == 190);
  raw.wait_for_heartbeat();
  auto beat = nlohmann::json::parse(raw.heartbeats.back());
  CHECK(beat["head"] == 200);  // subscribers learn of the dropped tail and replay it
  CHECK(beat["sequences"]["User"] == 200);
}

TEST_CASE("a subscriber that never reads does not hold up the writer") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints, blog_domain(), {.send_high_water_mark = 10});
  RawSubscriber stalled(endpoints.publish, "blog.");
  stalled.wait_for_heartbeat();
  for (int i = 0; i < 2000; ++i) create_user(source, i);
  CHECK(log_length(source.log()) == 2000);
  CHECK(source.log().last_sequence(source.log().read().value(), "User").value() == 2000);

  // What the writer pays per commit is notify(): a copy into the queue, however stalled
  // the subscriber. 100,000 of them, each one event, as the runtime calls it.
  std::string endpoint = "ipc://" + dir.sub("stalled.sock");
  auto publisher = ZmqPublisher::start(source.log(), blog_domain(),
                                       {.endpoints = {endpoint}, .send_high_water_mark = 10})
                       .value();
  RawSubscriber another(endpoint, "blog.");
  another.wait_for_heartbeat();
  auto events = all_events(source.log());
  auto start = Clock::now();
  for (int round = 0; round < 50; ++round)
    for (const auto& e : events) publisher->notify(std::span(&e, 1));
  auto elapsed = Clock::now() - start;
  INFO(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms for 100,000 notify() calls");
  CHECK(elapsed < 10s);  // about 0.1 s; under AddressSanitizer about 1 s
  CHECK(eventually([&] {
    auto stats = publisher->stats();
    return stats.published + stats.dropped == 100000;
  }));
}

TEST_CASE("an endpoint that cannot be bound fails the start with its name, inproc works with a shared context") {
  TempDir dir;
  auto store = EventSource::open(dir.sub("a"), blog_domain());
  auto bad = PublishService::start(store.log(), blog_domain(), {.endpoints = {"tcp://127.0.0.1:notaport"}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().cls == ErrorClass::framework);
  CHECK_THAT(bad.error().message, Catch::StartsWith("cannot bind the publisher to tcp://127.0.0.1:notaport"));

  auto endpoints = tcp_endpoints();  // a second bind of an ipc path would take it over
  auto first = publishing_source(dir.sub("b"), endpoints);
  auto taken = PublishService::start(store.log(), blog_domain(), {.replay = endpoints.replay});
  REQUIRE_FALSE(taken.has_value());
  CHECK_THAT(taken.error().message, Catch::StartsWith("cannot bind the replay service to " + endpoints.replay));

  auto context = std::make_shared<ZmqContext>();
  auto source = EventSource::open(dir.sub("d"), blog_domain(),
                                  {.endpoints = {"inproc://events"}, .replay = "inproc://replay",
                                   .context = context, .heartbeat = 50ms});
  create_user(source, 1);
  auto sub = Subscriber::connect({.publish = "inproc://events", .replay = "inproc://replay", .context = context})
                 .value();
  create_user(source, 2);
  CHECK(consecutive(take(*sub, 2), 1));
}
