// The runtime's part in notifications: Engine::open starts the publisher and the replay
// service from Options::publish, the notifiers and the publisher are told of each
// committed transaction after its commit and of nothing that rolled back, and a stalled
// subscriber never holds up the writer. (The publisher itself: tests/notifiers.)
#include <ashlar/ashlar.hpp>

#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/notify_sockets.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::test;

namespace {

// An engine that commits without flushing and publishes to `e` (an empty endpoint:
// none), with a fast heartbeat.
Engine publishing_engine(const std::string& dir, const Endpoints& e, PublishOptions extra = {}) {
  if (!e.publish.empty()) extra.endpoints = {e.publish};
  extra.replay = e.replay;
  extra.heartbeat = 100ms;
  return Engine::open(dir, blog_domain(), {.durability = Durability::no_sync, .publish = extra}).value();
}

Value create_user(Engine& engine, int i) {
  return engine.create("User", {{"name", "user " + std::to_string(i)}}).value().id();
}

}  // namespace

TEST_CASE("Engine::open publishes each committed action from Options::publish and serves its replay") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  {
    // Written while nothing published: only the replay service can hand it out later.
    auto quiet = Engine::open(dir.sub("store"), blog_domain(), {.durability = Durability::no_sync}).value();
    create_user(quiet, 1);
  }
  auto engine = publishing_engine(dir.sub("store"), endpoints);
  RawSubscriber raw(endpoints.publish, "blog.");
  raw.wait_for_heartbeat();

  auto alice = create_user(engine, 2);
  engine.update("User", alice, {{"age", 31}}).value();
  auto messages = raw.receive(2);
  REQUIRE(messages.size() == 2);
  auto stored = all_events(engine.log());
  REQUIRE(stored.size() == 3);
  CHECK(messages[0].first == "blog.User.create." + alice.as_uuid()->str());
  CHECK(messages[0].second == stored[1].bytes);
  CHECK(messages[1].first == "blog.User.update." + alice.as_uuid()->str());
  CHECK(messages[1].second == stored[2].bytes);

  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay}).value();
  auto events = take(*sub, 3);
  CHECK(consecutive(events, 1));
  CHECK(events[0].event.action == "create");
  expect_quiet(*sub);
}

TEST_CASE("a failed action publishes nothing") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto engine = publishing_engine(dir.sub("store"), endpoints);
  RawSubscriber raw(endpoints.publish, "blog.");
  raw.wait_for_heartbeat();

  auto alice = create_user(engine, 1);
  CHECK_FALSE(engine.create("User", {{"age", 31}}).has_value());                   // name is required
  CHECK_FALSE(engine.update("User", alice, {{"age", -4}}).has_value());            // below min
  CHECK_FALSE(engine.update("User", Uuid::v4(), {{"age", 4}}).has_value());        // no such record
  CHECK_FALSE(engine.create("Comment", {{"content", "no user"}}).has_value());     // user_id is required
  engine.update("User", alice, {{"age", 32}}).value();

  auto messages = raw.receive(3, 300ms);
  REQUIRE(messages.size() == 2);
  CHECK(decode_event(messages[0].second).value().position == 1);
  CHECK(decode_event(messages[1].second).value().position == 2);  // no position was used up
  CHECK(decode_event(messages[1].second).value().action == "update");
}

TEST_CASE("notifiers are told after the commit: what they are told of is already in the log") {
  TempDir dir;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;  // (position, head when told)
  const Log* log = nullptr;
  Options options{.durability = Durability::no_sync};
  options.notifiers.push_back(std::make_shared<CallbackNotifier>([&](const StoredEvent& e) {
    seen.emplace_back(e.event.position, log_length(*log));  // in a snapshot of its own
  }));
  auto engine = Engine::open(dir.sub("store"), blog_domain(), options).value();
  log = &engine.log();
  auto alice = create_user(engine, 1);
  CHECK_FALSE(engine.update("User", alice, {{"age", -4}}).has_value());
  engine.update("User", alice, {{"age", 4}}).value();
  CHECK(seen == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 1}, {2, 2}});
}

TEST_CASE("an endpoint that cannot be bound fails Engine::open with its name") {
  TempDir dir;
  auto bad = Engine::open(dir.sub("a"), blog_domain(), {.publish = {.endpoints = {"tcp://127.0.0.1:notaport"}}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().cls == ErrorClass::framework);
  CHECK_THAT(bad.error().message, Catch::StartsWith("cannot bind the publisher to tcp://127.0.0.1:notaport"));

  auto endpoints = tcp_endpoints();  // a second bind of an ipc path would take it over
  auto first = publishing_engine(dir.sub("b"), endpoints);
  auto taken = Engine::open(dir.sub("c"), blog_domain(), {.publish = {.replay = endpoints.replay}});
  REQUIRE_FALSE(taken.has_value());
  CHECK_THAT(taken.error().message, Catch::StartsWith("cannot bind the replay service to " + endpoints.replay));
}

TEST_CASE("a subscriber that never reads does not hold up the engine's writer") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto engine = publishing_engine(dir.sub("store"), endpoints, {.send_high_water_mark = 10});
  RawSubscriber stalled(endpoints.publish, "blog.");
  stalled.wait_for_heartbeat();
  for (int i = 0; i < 2000; ++i) create_user(engine, i);
  CHECK(log_length(engine.log()) == 2000);
  CHECK(engine.read("User").value().size() == 2000);
}
