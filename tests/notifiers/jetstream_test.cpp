// The JetStream sink against a real nats-server (started here, on loopback): the stream
// equals the log — sequence = position, the stored bytes, no duplicate, no gap — across a
// restart of the sink, a stop of the server while events are written, and a writer
// process killed with SIGKILL mid-mirror; a stream that is not this store's refused;
// `ashlar mirror`; and competing workers (the work queue, examples/workers).
#include "child_process.hpp"
#include "notify_helpers.hpp"
#include "support/nats_server.hpp"
#include "support/stream_contents.hpp"

#include <ashlar/notifiers/jetstream.hpp>
#include <ashlar/notifiers/work_queue.hpp>

#include <map>
#include <optional>
#include <sstream>

using namespace ashlar;
using namespace ashlar::test;

namespace {

constexpr auto kWait = std::chrono::seconds(30);  // a bound for a hang, not a timing claim

JetStreamOptions sink_options(const NatsServer& server, std::string stream = "BLOG", bool create = true) {
  return {.url = server.url(), .stream = std::move(stream), .create = create, .storage = StreamStorage::file};
}

std::shared_ptr<JetStreamSink> start_sink(EventSource& source, const JetStreamOptions& options) {
  auto sink = JetStreamSink::start(source.log(), source.domain().name(), options);
  INFO((sink ? "" : sink.error().describe()));
  REQUIRE(sink.has_value());
  std::shared_ptr<JetStreamSink> shared = std::move(*sink);
  source.add_notifier(shared);
  return shared;
}

void create_users(EventSource& source, int from, int count) {
  for (int i = from; i < from + count; ++i) create_user(source, i);
}

std::string start_error(EventSource& source, const JetStreamOptions& options) {
  auto sink = JetStreamSink::start(source.log(), source.domain().name(), options);
  REQUIRE_FALSE(sink.has_value());
  CHECK(sink.error().cls == ErrorClass::framework);
  return sink.error().message;
}

}  // namespace

TEST_CASE("the JetStream sink mirrors every committed event: sequence = position, stored bytes, subject, headers") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  auto sink = start_sink(source, sink_options(server));
  create_users(source, 0, 120);
  Value id = create_user(source, 120);
  source.update("User", id, {{"name", "renamed"}});
  Event in_tenant = source.creation("User", {{"name", "tenant's"}});
  in_tenant.tenant = "acme";
  source.commit({in_tenant, source.creation("User", {{"name", "same transaction"}})});
  source.destroy("User", id);

  REQUIRE(sink->wait_for(125, kWait));
  CHECK(sink->mirrored() == 125);
  CHECK(sink->lag() == 0);
  CHECK(sink->error().empty());
  StreamClient client(server.url());
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}

TEST_CASE("a restarted sink resumes from the stream's last sequence, reading what it missed from the log") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  {
    auto sink = start_sink(source, sink_options(server));
    create_users(source, 0, 40);
    REQUIRE(sink->wait_for(40, kWait));
  }
  create_users(source, 40, 60);  // no sink runs: only the log has them (the old one is stopped)

  auto again = JetStreamSink::start(source.log(), "blog", sink_options(server, "BLOG", false)).value();
  REQUIRE(again->wait_for(100, kWait));
  StreamClient client(server.url());
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}

TEST_CASE("with NATS stopped the engine's commits go on, the sink's lag grows, and it catches up when NATS is back") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  JetStreamOptions options = sink_options(server);
  options.timeout = std::chrono::milliseconds(500);
  auto sink = start_sink(source, options);
  create_users(source, 0, 30);
  REQUIRE(sink->wait_for(30, kWait));

  server.stop();
  create_users(source, 30, 70);  // none of these waits for NATS
  CHECK(sink->mirrored() == 30);
  CHECK(sink->lag() == 70);
  CHECK(sink->error().empty());

  server.start();
  create_users(source, 100, 20);
  REQUIRE(sink->wait_for(120, kWait));
  CHECK(sink->lag() == 0);
  StreamClient client(server.url());
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}

TEST_CASE("a sink started while NATS is down starts at once, and mirrors the log once NATS is up") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  server.stop();
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  JetStreamOptions options = sink_options(server);
  options.start_wait = std::chrono::milliseconds(100);
  auto sink = start_sink(source, options);  // does not wait for a server that is not there
  create_users(source, 0, 20);
  CHECK_FALSE(sink->connected());
  CHECK(sink->lag() == 20);
  server.start();
  REQUIRE(sink->wait_for(20, kWait));
  CHECK(sink->connected());
  StreamClient client(server.url());
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}

TEST_CASE("the sink refuses a missing stream, one with other subjects, and one holding another store's events") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto first = EventSource::open(dir.sub("first"), blog_domain());
  {
    auto sink = start_sink(first, sink_options(server));
    create_users(first, 0, 3);
    REQUIRE(sink->wait_for(3, kWait));
  }
  StreamClient client(server.url());

  SECTION("a missing stream, not to be created") {
    CHECK(start_error(first, sink_options(server, "ORDERS", false)) ==
          "JetStream stream ORDERS does not exist; create it or set create");
    CHECK(client.last("ORDERS") == 0);
  }
  SECTION("another store of the same domain, further along") {
    auto other = EventSource::open(dir.sub("other"), blog_domain());
    create_users(other, 100, 5);
    CHECK(start_error(other, sink_options(server)) ==
          "JetStream stream BLOG: event 3's hash differs from the log's: it mirrors another store");
  }
  SECTION("another store with fewer events") {
    auto other = EventSource::open(dir.sub("other"), blog_domain());
    create_users(other, 100, 1);
    CHECK(start_error(other, sink_options(server)) ==
          "JetStream stream BLOG holds 3 events, more than the log's 1: it mirrors another store");
  }
  SECTION("another domain's events") {
    using namespace ashlar::dsl;
    auto shop = domain("shop")
                    .resource(resource("Item").uuid_primary_key("id").attribute("name", type::string).defaults(
                        {"read", "destroy", "create:*", "update:*"}))
                    .build()
                    .value();
    auto other = EventSource::open(dir.sub("other"), shop);
    for (const char* name : {"x", "y", "z"}) other.create("Item", {{"name", name}});
    JetStreamOptions options = sink_options(server);
    options.prefix = "blog";
    CHECK(start_error(other, options) == "JetStream stream BLOG holds events of domain blog, not shop");
  }
  SECTION("a stream that does not take the prefix's subjects") {
    JetStreamOptions options = sink_options(server);
    options.prefix = "shop";
    CHECK(start_error(first, options) == "JetStream stream BLOG takes the subjects blog.>, not shop.>");
  }
  CHECK(client.last("BLOG") == 3);  // a refusal publishes nothing
  require_stream_equals_log(client, "BLOG", first.log(), "blog");
}

TEST_CASE("a writer killed with SIGKILL mid-mirror and restarted leaves the stream equal to the log", "[slow]") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string store = dir.sub("store");
  std::vector<std::string> argv{ASHLAR_TICKER, store, "--nats", server.url(), "--stream", "MARKET"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> all = argv;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  std::string out = dir.sub("ticker.out"), err = dir.sub("ticker.err");
  // The store's head, or 0 before the writer has made it.
  auto head = [&]() -> std::uint64_t {
    auto log = Log::open_read_only(store);
    if (!log) return 0;
    auto h = (*log)->head();
    return h ? h->position : 0;
  };
  for (int round = 0; round < 3; ++round) {
    std::uint64_t before = head();
    ChildProcess ticker(with({"--count", "1000000", "--rate", "3000", "--seed", std::to_string(round + 1)}), out, err);
    // Killed mid-write: once it has committed some events (a slow start, as under a
    // sanitizer, does not make the round a no-op), a little later in each round.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (head() < before + 20 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * round));
    INFO(read_file(err));
    REQUIRE(head() >= before + 20);
    REQUIRE_FALSE(ticker.wait(std::chrono::milliseconds(0)).has_value());  // still writing
    ticker.kill();
  }
  ChildProcess last(with({"--count", "300", "--seed", "9", "--linger", "30"}), out, err);
  INFO(read_file(err));
  REQUIRE(last.wait(std::chrono::seconds(60)) == 0);
  INFO(read_file(out));

  auto log = Log::open_read_only(store).value();
  CHECK(log->head().value().position > 300);
  StreamClient client(server.url());
  require_stream_equals_log(client, "MARKET", *log, "market");
}

TEST_CASE("ashlar mirror mirrors a store whose writer has no sink, tailing its log from another process") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string store = dir.sub("store");
  auto source = EventSource::open(store, blog_domain());
  create_users(source, 0, 50);
  std::string out = dir.sub("mirror.out"), err = dir.sub("mirror.err");
  StreamClient client(server.url());

  {  // a missing stream is refused, and nothing is created
    ChildProcess refused({ASHLAR_CLI, "mirror", store, "--nats", server.url(), "--stream", "BLOG"}, out, err);
    REQUIRE(refused.wait(kWait) == 1);
    CHECK(read_lines(err).back() == "ashlar: JetStream stream BLOG does not exist; create it or set create");
    CHECK(client.last("BLOG") == 0);
  }
  {
    ChildProcess once({ASHLAR_CLI, "mirror", store, "--nats", server.url(), "--stream", "BLOG", "--create",
                       "--until-caught-up"},
                      out, err);
    REQUIRE(once.wait(kWait) == 0);
    CHECK(read_lines(out).back() == "mirrored: 50");
  }
  ChildProcess tail({ASHLAR_CLI, "mirror", store, "--nats", server.url(), "--stream", "BLOG"}, out, err);
  create_users(source, 50, 30);  // the writer tells it nothing: it reads the log
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (client.last("BLOG") < 80 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  tail.signal(SIGTERM);
  REQUIRE(tail.wait(kWait) == 0);
  INFO(read_file(err));
  CHECK(read_lines(out).back() == "mirrored: 80");
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}

TEST_CASE("a work queue hands out the events its filter selects, and a failed handler's event comes again") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  auto sink = start_sink(source, sink_options(server));
  std::vector<Value> users;
  for (int i = 0; i < 20; ++i) users.push_back(create_user(source, i));
  for (int i = 0; i < 10; ++i) source.update("User", users[static_cast<std::size_t>(i)], {{"name", "again"}});
  REQUIRE(sink->wait_for(30, kWait));

  WorkQueueOptions options{.url = server.url(), .stream = "BLOG", .durable = "greeter", .resource = "User",
                           .action = "update"};
  auto queue = WorkQueue::open(options).value();
  std::map<std::uint64_t, std::vector<std::uint64_t>> deliveries;  // position -> delivery numbers
  std::size_t handled = 0;
  for (int round = 0; round < 200 && handled < 10; ++round) {
    handled += queue->work(
                       [&](const WorkItem& item) -> Result<void> {
                         deliveries[item.position].push_back(item.delivered);
                         CHECK(item.event.action == "update");
                         CHECK(item.event.position == item.position);
                         if (item.position == 25 && item.delivered == 1) return fail(Error::unknown("not now"));
                         return {};
                       },
                       std::chrono::milliseconds(200))
                   .value();
  }
  REQUIRE(handled == 10);
  std::vector<std::uint64_t> positions;
  for (const auto& [p, d] : deliveries) positions.push_back(p);
  CHECK(positions == std::vector<std::uint64_t>{21, 22, 23, 24, 25, 26, 27, 28, 29, 30});
  CHECK(deliveries[25] == std::vector<std::uint64_t>{1, 2});
  CHECK(deliveries[24] == std::vector<std::uint64_t>{1});
  CHECK(queue->work([](const WorkItem&) -> Result<void> { return {}; }, std::chrono::milliseconds(100)).value() == 0);

  options.action = "";
  auto other = WorkQueue::open(options);
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().message == "consumer greeter of JetStream stream BLOG takes blog.User.update, not blog.User.*");
}

TEST_CASE("competing workers handle every event at least once, none lost when one is killed", "[slow]") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  auto sink = start_sink(source, sink_options(server));
  create_users(source, 0, 300);
  std::vector<std::string> argv{ASHLAR_WORKERS, "--nats", server.url(), "--stream", "BLOG",
                                "--durable", "pool", "--ack-wait-ms", "1000"};
  auto outputs = [&] {
    std::map<std::uint64_t, std::string> seen;  // position -> "Resource.action"
    std::size_t lines = 0;
    for (const char* name : {"a.out", "b.out", "c.out"})
      for (const auto& line : read_lines(dir.sub(name))) {
        std::istringstream in(line);
        std::uint64_t position = 0;
        std::string what;
        if (in >> position >> what) seen[position] = what, ++lines;
      }
    return std::pair{seen, lines};
  };
  auto wait_until = [&](auto done) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  };
  // Each worker is stopped only once it has handled something: a worker is known to be
  // running (its signal handler set) then, and each one's share is its own to show.
  std::optional<ChildProcess> a, b, c;
  a.emplace(argv, dir.sub("a.out"), dir.sub("err"));
  b.emplace(argv, dir.sub("b.out"), dir.sub("err"));
  wait_until([&] { return read_lines(dir.sub("a.out")).size() >= 30; });
  a->kill();  // mid-batch, most likely: what it fetched and did not acknowledge comes again
  wait_until([&] { return !read_lines(dir.sub("b.out")).empty(); });  // b alone takes the rest
  c.emplace(argv, dir.sub("c.out"), dir.sub("err"));
  b->signal(SIGTERM);  // what b fetched and did not finish comes again, to c
  INFO(read_file(dir.sub("err")));
  CHECK(b->wait(kWait) == 0);
  create_users(source, 300, 100);  // c alone is left to handle them
  wait_until([&] { return outputs().first.size() >= 400; });
  c->signal(SIGTERM);
  CHECK(c->wait(kWait) == 0);

  auto [seen, lines] = outputs();
  REQUIRE(seen.size() == 400);  // every position, whatever the number of lines
  CHECK(seen.begin()->first == 1);
  CHECK(seen.rbegin()->first == 400);
  CHECK(lines >= 400);
  for (const auto& [position, what] : seen) CHECK(what == "User.create");
  CHECK_FALSE(read_lines(dir.sub("b.out")).empty());  // the work was shared
  CHECK_FALSE(read_lines(dir.sub("c.out")).empty());
}

TEST_CASE("a three-node cluster: the sink goes on when a node of its three-replica stream is killed", "[slow]") {
  TempDir dir;
  int routes[3] = {free_port(), free_port(), free_port()};
  auto route = [&](int i) { return "nats://127.0.0.1:" + std::to_string(routes[i]); };
  std::vector<std::unique_ptr<NatsServer>> nodes;
  for (int i = 0; i < 3; ++i) {
    std::string others = route((i + 1) % 3) + "," + route((i + 2) % 3);
    nodes.push_back(std::make_unique<NatsServer>(
        dir.sub("n" + std::to_string(i)),
        std::vector<std::string>{"-n", "n" + std::to_string(i), "--cluster_name", "ashlar", "--cluster", route(i),
                                 "--routes", others}));
  }
  std::string urls = nodes[0]->url() + "," + nodes[1]->url() + "," + nodes[2]->url();
  auto source = EventSource::open(dir.sub("store"), blog_domain());
  JetStreamOptions options{.url = urls, .stream = "BLOG", .create = true, .replicas = 3};
  options.timeout = std::chrono::milliseconds(1000);
  options.start_wait = std::chrono::milliseconds(0);  // the cluster elects its leaders meanwhile
  auto sink = start_sink(source, options);
  create_users(source, 0, 150);
  bool reached = sink->wait_for(150, kWait);
  INFO(sink->error());  // a stopped sink says why
  REQUIRE(reached);

  nodes[0]->kill();  // two of three replicas remain: a quorum
  create_users(source, 150, 150);
  REQUIRE(sink->wait_for(300, kWait));
  CHECK(sink->error().empty());
  StreamClient client(nodes[1]->url() + "," + nodes[2]->url());
  require_stream_equals_log(client, "BLOG", source.log(), "blog");
}
