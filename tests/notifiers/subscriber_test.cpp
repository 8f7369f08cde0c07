// The catch-up subscriber on real sockets: history, then the live stream, every position
// once and in order, through late joins, bursts past its high-water mark and restarts.
#include "notify_helpers.hpp"

#include <atomic>
#include <thread>

using namespace ashlar;
using namespace ashlar::test;

TEST_CASE("a subscriber that connects after 10,000 commits receives them all, then the live ones, each once") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto source = publishing_source(dir.sub("store"), endpoints);
  for (int i = 0; i < 10000; ++i) create_user(source, i);

  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay}).value();
  std::jthread writer([&] {
    for (int i = 10000; i < 11000; ++i) create_user(source, i);
  });
  auto events = take(*sub, 11000);
  writer.join();
  CHECK(consecutive(events, 1));
  CHECK(sub->position() == 11000);
  expect_quiet(*sub);
  CHECK(sub->caught_up());
  CHECK(sub->model().resource("User") != nullptr);
  auto stats = sub->stats();
  CHECK(stats.replayed >= 10000);  // history came from the replay service
  CHECK(stats.delivered == 11000);
}

TEST_CASE("under a burst of 100,000 events a subscriber with a tiny high-water mark still gets each once, in order", "[slow]") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  LogOptions options = EventSource::unsynced();
  options.initial_map_size = std::size_t{256} << 20;
  // What Engine::open starts for Options::publish, with ZeroMQ's queues cut to 10 messages.
  auto source = EventSource::open(dir.sub("store"), blog_domain(),
                                  {.endpoints = {endpoints.publish}, .replay = endpoints.replay,
                                   .send_high_water_mark = 10, .heartbeat = 100ms},
                                  options);
  auto sub = Subscriber::connect({.publish = endpoints.publish,
                                  .replay = endpoints.replay,
                                  .start = StartAt::now(),
                                  .receive_high_water_mark = 10})
                 .value();
  wait_until_live(*sub);

  // The burst: 100 transactions of 1,000 events, each published as it commits.
  constexpr int kBurst = 100000;
  std::jthread writer([&] {
    for (int done = 0; done < kBurst; done += 1000) {
      std::vector<Event> transaction;
      for (int i = done; i < done + 1000; ++i)
        transaction.push_back(source.creation("User", {{"name", "user " + std::to_string(i)}}));
      source.commit(transaction);
    }
  });
  auto events = take(*sub, kBurst, 60s);
  writer.join();
  CHECK(consecutive(events, 1));
  expect_quiet(*sub);
  auto stats = sub->stats();
  INFO("live " << stats.live << ", replayed " << stats.replayed << ", requests " << stats.replay_requests);
  CHECK(stats.replay_requests > 0);  // ZeroMQ dropped live events: the gaps were filled
  CHECK(stats.live > 0);
  // ZeroMQ dropped them on the way, not the publisher before sending.
  const ZmqPublisher* publisher = source.publishing()->publisher();
  CHECK(eventually([&] { return publisher->stats().published == static_cast<std::uint64_t>(kBurst); }));
}

TEST_CASE("while a subscriber keeps up, the replay service is asked for nothing") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), {endpoints.publish, ""});
  // The source publishes; this replay service, over the same log, counts what it is asked.
  auto replay = ReplayService::start(source.log(), {.endpoint = endpoints.replay}).value();
  for (int i = 0; i < 100; ++i) create_user(source, i);

  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay}).value();
  CHECK(consecutive(take(*sub, 100), 1));
  wait_until_live(*sub);
  REQUIRE(sub->caught_up());
  std::uint64_t asked = replay->requests();

  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 25; ++i) create_user(source, 1000 + round * 25 + i);
    auto events = take(*sub, 25);
    CHECK(consecutive(events, 101 + round * 25));
  }
  std::this_thread::sleep_for(300ms);  // heartbeats pass, and find nothing missing
  expect_quiet(*sub);
  CHECK(replay->requests() == asked);
  CHECK(sub->stats().live >= 500);
}

TEST_CASE("a subscriber resumes from its checkpoint: nothing missed, nothing repeated") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  for (int i = 0; i < 50; ++i) create_user(source, i);
  std::uint64_t checkpoint = 0;
  {
    auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay}).value();
    CHECK(consecutive(take(*sub, 30), 1));
    checkpoint = sub->position();
  }
  CHECK(checkpoint == 30);
  for (int i = 50; i < 60; ++i) create_user(source, i);  // committed while it was away
  auto sub = Subscriber::connect({.publish = endpoints.publish,
                                  .replay = endpoints.replay,
                                  .start = StartAt::after(checkpoint)})
                 .value();
  CHECK(consecutive(take(*sub, 30), 31));
  expect_quiet(*sub);
}

TEST_CASE("a subscriber from now sees only what is committed after it connects") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  for (int i = 0; i < 20; ++i) create_user(source, i);
  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                  .start = StartAt::now()})
                 .value();
  CHECK(sub->position() == 20);
  expect_quiet(*sub, 200ms);
  for (int i = 20; i < 25; ++i) create_user(source, i);
  CHECK(consecutive(take(*sub, 5), 21));
}

TEST_CASE("a resource subscriber sees none of another resource's events, and numbers its stream by sequence") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                  .resource = "Comment"})
                 .value();
  std::vector<Value> comments;
  for (int i = 0; i < 30; ++i) {
    auto user = create_user(source, i);
    if (i % 3 == 0) comments.push_back(source.create("Comment", {{"content", "hi"}, {"user_id", user}}));
  }
  for (const auto& id : comments) source.update("Comment", id, {{"content", "edited"}}, "edit");
  auto events = take(*sub, 20);
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].event.resource == "Comment");
    CHECK(events[i].event.sequence == i + 1);
  }
  expect_quiet(*sub);

  SECTION("an action subscriber filters the resource's stream locally") {
    auto edits = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                      .resource = "Comment", .action = "edit"})
                     .value();
    auto got = take(*edits, 10);
    for (const auto& e : got) CHECK(e.event.action == "edit");
    expect_quiet(*edits);
    // Resuming a resource stream from a global position.
    auto resumed = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                        .resource = "Comment", .action = "edit",
                                        .start = StartAt::after(got[4].event.position)})
                       .value();
    auto rest = take(*resumed, 5);
    CHECK(rest.front().event.position == got[5].event.position);
  }
}

namespace {

const char* const kTenants[] = {"acme", "globex", "initech"};

// Commits `count` users, one transaction each, their tenants taking turns; the positions
// of `tenant`'s. With `per_commit`, that many events to a transaction.
std::vector<std::uint64_t> write_tenants(EventSource& source, int first, int count, std::string_view tenant,
                                         int per_commit = 1, std::string_view resource = "User") {
  std::vector<std::uint64_t> theirs;
  std::vector<Event> transaction;
  for (int i = first; i < first + count; ++i) {
    Event e = source.creation(resource, {{"name", "user " + std::to_string(i)}});
    e.tenant = kTenants[i % 3];
    transaction.push_back(std::move(e));
    if (static_cast<int>(transaction.size()) < per_commit && i + 1 < first + count) continue;
    for (const auto& stored : source.commit(transaction))
      if (stored.event.tenant == tenant) theirs.push_back(stored.event.position);
    transaction.clear();
  }
  return theirs;
}

std::vector<std::uint64_t> positions_of(const std::vector<ReceivedEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.event.position);
  return out;
}

}  // namespace

TEST_CASE("a tenant subscriber receives exactly its tenant's events, in order and once, from replay then live") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto expected = write_tenants(source, 0, 300, "acme");
  REQUIRE(expected.size() == 100);

  // One from the beginning, in small replies; one resumed in the middle of the history.
  auto from_start = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                         .tenant = "acme", .replay_batch = 7})
                        .value();
  auto resumed = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                      .tenant = "acme", .start = StartAt::after(expected[49])})
                     .value();
  std::vector<std::uint64_t> later;
  std::jthread writer([&] { later = write_tenants(source, 300, 300, "acme"); });
  auto got = take(*from_start, 200);
  auto got_resumed = take(*resumed, 150);
  writer.join();
  expected.insert(expected.end(), later.begin(), later.end());
  CHECK(positions_of(got) == expected);
  CHECK(positions_of(got_resumed) == std::vector<std::uint64_t>(expected.begin() + 50, expected.end()));
  for (const auto& e : got) CHECK(e.event.tenant == "acme");
  expect_quiet(*from_start);
  expect_quiet(*resumed);
  CHECK(from_start->position() == expected.back());
  CHECK(from_start->caught_up());
  // The history came from the replay service as acme's events alone, not all 300.
  auto stats = from_start->stats();
  INFO("replayed " << stats.replayed << ", live " << stats.live);
  CHECK(stats.replayed >= 100);
  CHECK(stats.replayed < 300);
  CHECK(stats.delivered == 200);
}

TEST_CASE("a tenant subscriber fills the gaps a tiny high-water mark leaves, still each of its events once") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = EventSource::open(dir.sub("store"), blog_domain(),
                                  {.endpoints = {endpoints.publish}, .replay = endpoints.replay,
                                   .send_high_water_mark = 10, .heartbeat = 100ms});
  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay, .tenant = "globex",
                                  .start = StartAt::now(), .receive_high_water_mark = 10})
                 .value();
  wait_until_live(*sub);
  std::vector<std::uint64_t> expected;
  std::jthread writer([&] { expected = write_tenants(source, 0, 6000, "globex", 300); });
  auto got = take(*sub, 2000, 30s);
  writer.join();
  CHECK(positions_of(got) == expected);
  expect_quiet(*sub);
  auto stats = sub->stats();
  INFO("live " << stats.live << ", replayed " << stats.replayed << ", requests " << stats.replay_requests);
  CHECK(stats.replay_requests > 0);  // ZeroMQ dropped live events: the gaps were filled
}

TEST_CASE("a resource subscriber following one tenant numbers the resource's stream and skips other resources") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto users = write_tenants(source, 0, 30, "initech");
  auto comments = write_tenants(source, 30, 30, "initech", 1, "Comment");
  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                  .resource = "Comment", .tenant = "initech"})
                 .value();
  auto more_users = write_tenants(source, 60, 30, "initech");
  auto more = write_tenants(source, 90, 30, "initech", 1, "Comment");
  comments.insert(comments.end(), more.begin(), more.end());
  auto got = take(*sub, comments.size());
  CHECK(positions_of(got) == comments);
  for (const auto& e : got) CHECK((e.event.resource == "Comment" && e.event.tenant == "initech"));
  expect_quiet(*sub);
}

TEST_CASE("a subscriber is refused an unknown resource and an action without a resource") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto unknown = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay, .resource = "Post"});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().cls == ErrorClass::framework);
  CHECK_THAT(unknown.error().message, Catch::Contains("no resource named Post"));

  auto action_only = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                          .action = "create"});
  REQUIRE_FALSE(action_only.has_value());
  CHECK(action_only.error().message == "a subscription to an action names its resource too");

  auto garbled = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                      .tenant = std::string("acme\xff", 5)});
  REQUIRE_FALSE(garbled.has_value());
  CHECK(garbled.error().message == "a subscription's tenant is text: this one is not valid UTF-8");

  auto nobody = Subscriber::connect({.publish = endpoints.publish, .replay = "ipc://" + dir.sub("nobody.sock"),
                                     .connect_timeout = 200ms});
  REQUIRE_FALSE(nobody.has_value());
  CHECK_THAT(nobody.error().message, Catch::Contains("did not answer within 200 ms"));
}
