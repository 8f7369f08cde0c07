// Read replicas against a real nats-server (started here, on loopback): a primary Engine
// mirrors its log into JetStream; a Replica applies the stream into a store of its own,
// which then reads as the primary does and has the primary's head. The command line's
// replica survives SIGKILL; a tampered message stops a replica, keeping what came before.
// Custom projections fold on a replica as on the primary, also across a restart, and a
// model change mid-stream (a default added, an attribute renamed by an upcaster) is
// applied by a replica following it and by one started after it.
#include "notifiers/child_process.hpp"
#include "support/blog_domain.hpp"
#include "support/nats_server.hpp"
#include "support/stream_contents.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/store_reader.hpp>

#include <map>

using namespace ashlar;
using namespace ashlar::test;

namespace {

constexpr auto kWait = std::chrono::seconds(30);  // a bound for a hang, not a timing claim

Options mirrored(const NatsServer& server, std::string stream = "BLOG") {
  Options o;
  o.durability = Durability::no_sync;
  o.jetstream = {.url = server.url(), .stream = std::move(stream), .create = true};
  return o;
}

ReplicaOptions replica_options(const NatsServer& server, std::string stream = "BLOG") {
  return {.url = server.url(), .stream = std::move(stream), .durability = Durability::no_sync};
}

void write_some(Engine& engine, int from, int count) {
  for (int i = from; i < from + count; ++i) {
    auto user = engine.create("User", {{"name", "user " + std::to_string(i)}}).value();
    engine.create("Comment", {{"content", "hi " + std::to_string(i)}, {"user_id", user.id()}}).value();
    if (i % 3 == 0) engine.update("User", user.id(), {{"age", i % 100}}).value();
    if (i % 5 == 0) engine.destroy("User", user.id()).value();
  }
}

Head head_of(const std::string& dir) { return Log::open_read_only(dir).value()->head().value(); }

std::vector<std::string> names(const StoreReader& store) {
  std::vector<std::string> out;
  for (const auto& r : store.read("User", {.sort = {SortKey::asc("name")}}).value())
    out.push_back(*r["name"].as_string());
  return out;
}

// Events per "Resource.action" ("by_action": key → count), in the mode asked.
class ActionCounts final : public Projection {
 public:
  ActionCounts(std::string name, ProjectionMode mode) : name_(std::move(name)), mode_(mode) {}
  std::string name() const override { return name_; }
  ProjectionMode mode() const override { return mode_; }
  std::vector<TableSpec> tables() const override { return {{"by_action"}}; }
  Result<void> apply(StateStore& tables, const StoredEvent& e) override {
    std::string key = e.event.resource + "." + e.event.action;
    auto current = tables.get(0, key);
    if (!current) return fail(current.error());
    std::uint64_t n = *current ? read_be64(**current) : 0;
    return tables.put(0, key, be64(n + 1));
  }

 private:
  std::string name_;
  ProjectionMode mode_;
};

using Table = std::map<std::string, std::string>;

Table table_of(const std::function<Result<void>(std::string_view, const std::function<Result<void>(const StateStore&)>&)>& read,
               const std::string& name) {
  Table out;
  read(name, [&](const StateStore& t) {
    return t.scan(0, {}, [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return true;
    });
  }).value();
  return out;
}
Table table_of(const Engine& engine, const std::string& name) {
  return table_of([&](auto n, const auto& fn) { return engine.read_projection(n, fn); }, name);
}
Table table_of(const Replica& replica, const std::string& name) {
  return table_of([&](auto n, const auto& fn) { return replica.read_projection(n, fn); }, name);
}

std::vector<std::shared_ptr<Projection>> counting() {
  return {std::make_shared<ActionCounts>("inline_counts", ProjectionMode::in_transaction),
          std::make_shared<ActionCounts>("async_counts", ProjectionMode::asynchronous)};
}

}  // namespace

TEST_CASE("a replica catches up, follows live, and ends with the primary's head, reading as the primary") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string primary_dir = dir.sub("primary"), replica_dir = dir.sub("replica");
  std::uint64_t head = 0;
  {
    auto engine = Engine::open(primary_dir, test::blog_domain(), mirrored(server)).value();
    write_some(engine, 0, 40);
    auto replica = Replica::start(replica_dir, replica_options(server)).value();
    head = engine.jetstream()->mirrored() + engine.jetstream()->lag();
    REQUIRE(replica->wait_for(head, kWait));  // caught up
    write_some(engine, 40, 20);                // and live
    head = engine.jetstream()->mirrored() + engine.jetstream()->lag();
    REQUIRE(replica->wait_for(head, kWait));
    CHECK(replica->position() == head);
    CHECK(replica->error().empty());
  }
  Head primary = head_of(primary_dir), replica = head_of(replica_dir);
  CHECK(replica.position == primary.position);
  CHECK(to_hex(replica.hash) == to_hex(primary.hash));
  auto on_primary = StoreReader::open(primary_dir).value();
  auto on_replica = StoreReader::open(replica_dir).value();
  CHECK(names(on_replica) == names(on_primary));
  CHECK(on_replica.read("Comment").value().size() == 60);
  auto check = on_replica.log().check(on_replica.log().read().value(), {}).value();
  CHECK(check.problems.empty());
}

TEST_CASE("a tampered message stops the replica, naming it, and keeps what came before") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  {
    auto engine = Engine::open(dir.sub("primary"), test::blog_domain(), mirrored(server)).value();
    for (int i = 0; i < 5; ++i) engine.create("User", {{"name", "user " + std::to_string(i)}}).value();
    REQUIRE(engine.jetstream()->wait_for(5, kWait));
  }
  // A copy of the stream in which event 3's bytes say another name.
  StreamClient client(server.url());
  client.add_stream("TAMPERED", "tampered.>");
  for (auto m : client.messages("BLOG")) {
    if (m.sequence == 3) {
      auto at = m.data.find("user 2");
      REQUIRE(at != std::string::npos);
      m.data.replace(at, 6, "user X");
    }
    std::vector<std::pair<std::string, std::string>> headers{
        {kHeaderDomain, m.domain}, {kHeaderPosition, m.position}, {kHeaderHash, m.hash}};
    if (!m.model.empty()) headers.emplace_back(kHeaderModel, m.model);
    client.publish("tampered.User.create", m.data, headers);
  }
  auto replica = Replica::start(dir.sub("replica"), replica_options(server, "TAMPERED")).value();
  CHECK_FALSE(replica->wait_for(5, kWait));
  CHECK(replica->error() ==
        "message 3 does not fit: its hash is not h(3) of the replica's chain (tampered, or another store's)");
  CHECK(replica->position() == 2);
}

TEST_CASE("the command line's replica survives SIGKILL while the primary writes, and ends with its head", "[slow]") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string primary = dir.sub("primary"), replica = dir.sub("replica");
  std::string out = dir.sub("out"), err = dir.sub("err");
  ChildProcess writer({ASHLAR_TICKER, primary, "--nats", server.url(), "--stream", "MARKET", "--count", "4000",
                       "--rate", "2000", "--linger", "30"},
                      out, err);
  std::vector<std::string> argv{ASHLAR_CLI, "replica", "--nats", server.url(), "--stream", "MARKET", replica, "--no-sync"};
  StreamClient client(server.url());
  for (int i = 0; i < 1500 && !client.exists("MARKET"); ++i)  // the ticker creates it
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int round = 0; round < 3; ++round) {
    ChildProcess follower(argv, out, err);
    std::this_thread::sleep_for(std::chrono::milliseconds(250 + 100 * round));
    INFO(read_file(err));
    REQUIRE_FALSE(follower.wait(std::chrono::milliseconds(0)).has_value());  // still following
    follower.kill();
  }
  INFO(read_file(err));
  REQUIRE(writer.wait(std::chrono::seconds(60)) == 0);  // done, and the stream holds every event
  argv.push_back("--until-caught-up");
  ChildProcess last(argv, out, err);
  REQUIRE(last.wait(kWait) == 0);

  Head p = head_of(primary), r = head_of(replica);
  CHECK(r.position == p.position);
  CHECK(to_hex(r.hash) == to_hex(p.hash));
  ChildProcess verify({ASHLAR_CLI, "verify", replica}, out, err);
  CHECK(verify.wait(kWait) == 0);
  // The command line reads the replica as it reads the primary.
  auto cli = [&](std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), ASHLAR_CLI);
    ChildProcess run(args, dir.sub(name), err);
    REQUIRE(run.wait(kWait) == 0);
    return read_file(dir.sub(name));
  };
  CHECK(cli({"head", replica}, "head.r") == cli({"head", primary}, "head.p"));
  std::string orders = cli({"query", primary, "Order", "--json"}, "query.p");
  CHECK_FALSE(orders.empty());
  CHECK(cli({"query", replica, "Order", "--json"}, "query.r") == orders);
  CHECK(cli({"state", replica, "Quote", "ACME", "--json"}, "state.r") ==
        cli({"state", primary, "Quote", "ACME", "--json"}, "state.p"));
  CHECK(cli({"history", replica, "Quote", "ACME", "--json"}, "history.r") ==
        cli({"history", primary, "Quote", "ACME", "--json"}, "history.p"));
}

TEST_CASE("a replica folds custom projections as the primary does, also when restarted mid-stream") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  Options options = mirrored(server);
  options.projections = counting();
  auto engine = Engine::open(dir.sub("primary"), test::blog_domain(), options).value();
  write_some(engine, 0, 20);
  std::uint64_t first = engine.log().head().value().position;
  REQUIRE(engine.jetstream()->wait_for(first, kWait));

  // A replica stopped mid-stream: it applied the first part; the primary writes on.
  std::string replica_dir = dir.sub("replica");
  ReplicaOptions ro = replica_options(server);
  ro.batch = 16;
  ro.projections = {counting()[0]};  // the asynchronous one comes with the restart
  {
    auto replica = Replica::start(replica_dir, ro).value();
    REQUIRE(replica->wait_for(first, kWait));
  }
  write_some(engine, 20, 40);
  std::uint64_t head = engine.log().head().value().position;
  REQUIRE(engine.jetstream()->wait_for(head, kWait));
  REQUIRE(engine.catch_up());
  Table inline_counts = table_of(engine, "inline_counts"), async_counts = table_of(engine, "async_counts");
  REQUIRE(inline_counts.size() == 4);  // User.create, User.update, User.destroy, Comment.create
  CHECK(async_counts == inline_counts);
  CHECK(head_of(replica_dir).position == first);

  ro.projections = counting();
  auto replica = Replica::start(replica_dir, ro).value();
  REQUIRE(replica->wait_for(head, kWait));
  REQUIRE(replica->catch_up());
  CHECK(table_of(*replica, "inline_counts") == inline_counts);
  CHECK(table_of(*replica, "async_counts") == async_counts);
  // And live: the primary's next writes reach the replica's projections too.
  write_some(engine, 60, 10);
  head = engine.log().head().value().position;
  REQUIRE(replica->wait_for(head, kWait));
  REQUIRE(engine.catch_up());
  REQUIRE(replica->catch_up());
  CHECK(table_of(*replica, "inline_counts") == table_of(engine, "inline_counts"));
  CHECK(table_of(*replica, "async_counts") == table_of(engine, "async_counts"));
  CHECK(replica->error().empty());
  auto missing = replica->read_projection("nothing", [](const StateStore&) { return Result<void>{}; });
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == "no projection is named nothing");
}

namespace {

ResourceBuilder item_v1() {
  return dsl::resource("Item")
      .uuid_primary_key("id")
      .attribute("name", type::string, {.allow_nil = false})
      .attribute("price", type::integer)
      .defaults({"read", "destroy", "create:*", "update:*"});
}

// v2: name renamed to title and price an integer no more (the upcaster item_v2 reshapes
// the older events), a currency with a constant default (backfilled into older records).
Domain shop(bool v2) {
  if (!v2) return dsl::domain("shop").resource(item_v1()).build().value();
  return dsl::domain("shop")
      .resource(dsl::resource("Item")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .attribute("price", type::floating)
                    .attribute("currency", type::atom, {.default_value = Atom{"EUR"}})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

Upcaster item_v2() {
  auto reshape = [](Event& e) -> Result<void> {
    for (Fields* fields : {&e.changes, &e.inputs})
      for (auto& [name, value] : *fields) {
        if (name == "name") name = "title";
        if (name == "price" && value.as_int()) value = Value(static_cast<double>(*value.as_int()));
      }
    return {};
  };
  return {.name = "item_v2", .resource = "Item", .model_version = 1, .reshape = reshape};
}

// Titles by id ("titles": id → title), as the events give them in the current shape.
class Titles final : public Projection {
 public:
  std::string name() const override { return "titles"; }
  std::vector<TableSpec> tables() const override { return {{"by_id"}}; }
  Result<void> apply(StateStore& tables, const StoredEvent& e) override {
    const Value* title = find_field(e.event.changes, "title");
    if (!title) return {};
    std::string id;
    for (const auto& [name, value] : e.event.key) id += value.str();
    return tables.put(0, id, title->is_null() ? "(nil)" : title->str());
  }
};

std::vector<Record> items(const std::string& dir) {
  return StoreReader::open(dir).value().read("Item", {.sort = {SortKey::asc("price")}}).value();
}

}  // namespace

TEST_CASE("a replica applies a model change mid-stream, following it or started after it") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string primary_dir = dir.sub("primary");
  Options options = mirrored(server, "SHOP");
  options.projections = {std::make_shared<Titles>()};
  ReplicaOptions ro = replica_options(server, "SHOP");
  ro.projections = {std::make_shared<Titles>()};
  ro.upcasters = {item_v2()};  // the primary's of today: it waits for model version 2
  Value lamp;
  std::uint64_t head = 0;
  {
    auto engine = Engine::open(primary_dir, shop(false), options).value();
    lamp = engine.create("Item", {{"name", "lamp"}, {"price", 30}}).value().id();
    engine.create("Item", {{"name", "desk"}, {"price", 120}}).value();
    engine.update("Item", lamp, {{"price", 32}}).value();
    head = engine.log().head().value().position;
    REQUIRE(engine.jetstream()->wait_for(head, kWait));
  }
  auto follower = Replica::start(dir.sub("follower"), ro).value();
  REQUIRE(follower->wait_for(head, kWait));  // version 1 only, so far
  CHECK(items(dir.sub("follower")).at(0)["name"] == Value("lamp"));

  options.upcasters = {item_v2()};
  auto engine = Engine::open(primary_dir, shop(true), options).value();
  REQUIRE(engine.model_version() == 2);
  engine.create("Item", {{"title", "chair"}, {"price", 45.5}, {"currency", Atom{"USD"}}}).value();
  engine.update("Item", lamp, {{"price", 33.5}}).value();
  head = engine.log().head().value().position;
  REQUIRE(engine.jetstream()->wait_for(head, kWait));
  REQUIRE(follower->wait_for(head, kWait));
  CHECK(follower->error().empty());
  auto late = Replica::start(dir.sub("late"), ro).value();  // from scratch, after the change
  REQUIRE(late->wait_for(head, kWait));
  CHECK(late->error().empty());

  auto expected = items(primary_dir);
  REQUIRE(expected.size() == 3);
  CHECK(expected[0]["title"] == Value("lamp"));  // a version 1 record, upcast and backfilled
  CHECK(expected[0]["price"] == Value(33.5));
  CHECK(expected[0]["currency"] == Value(Atom{"EUR"}));
  CHECK(expected[1]["currency"] == Value(Atom{"USD"}));  // a version 2 one
  CHECK(expected[2]["title"] == Value("desk"));
  for (const auto& replica : {"follower", "late"}) {
    INFO(replica);
    CHECK(items(dir.sub(replica)) == expected);
    Head p = head_of(primary_dir), r = head_of(dir.sub(replica));
    CHECK(r.position == p.position);
    CHECK(to_hex(r.hash) == to_hex(p.hash));
  }
  CHECK(table_of(*follower, "titles") == table_of(engine, "titles"));
  CHECK(table_of(*late, "titles") == table_of(engine, "titles"));
  CHECK(table_of(engine, "titles").size() == 3);
  follower.reset();
  late.reset();
  // The command line reads both versions' records on a replica as on the primary.
  std::string err = dir.sub("err");
  auto cli = [&](std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(), ASHLAR_CLI);
    ChildProcess run(args, dir.sub(name), err);
    REQUIRE(run.wait(kWait) == 0);
    return read_file(dir.sub(name));
  };
  std::string state = cli({"state", primary_dir, "Item", lamp.str(), "--json"}, "state.p");
  CHECK(state.find("\"title\"") != std::string::npos);
  CHECK(cli({"state", dir.sub("follower"), "Item", lamp.str(), "--json"}, "state.f") == state);
  CHECK(cli({"state", dir.sub("late"), "Item", lamp.str(), "--json"}, "state.l") == state);

  // The command line's replica takes no code, and says so.
  CHECK(cli({"replica", "--help"}, "help").find("Custom projections and upcasters are C++ code, which this command "
                                                "cannot load") != std::string::npos);

  // A replica that lacks the upcaster stops at the change, keeping version 1's events.
  ReplicaOptions bare = replica_options(server, "SHOP");
  auto stopped = Replica::start(dir.sub("bare"), bare).value();
  CHECK_FALSE(stopped->wait_for(head, kWait));
  CHECK(stopped->position() == 3);
  CHECK(stopped->error() == fmt::format("message 4 starts a model the replica cannot take: the model does not fit "
                                        "the store at {}: Item.name: attribute removed, but the log has its values; "
                                        "Item.price: type changed from integer to float",
                                        dir.sub("bare")));
}

TEST_CASE("a model the primary took without writing under it reaches the replica with its version number") {
  TempDir dir;
  NatsServer server(dir.sub("nats"));
  std::string primary_dir = dir.sub("primary");
  Options options = mirrored(server, "SHOP");
  auto with = [](std::vector<std::string> extra) {
    ResourceBuilder item = item_v1();
    for (const auto& name : extra) item.attribute(name, type::string);
    return dsl::domain("shop").resource(item).build().value();
  };
  {
    auto engine = Engine::open(primary_dir, with({}), options).value();
    engine.create("Item", {{"name", "lamp"}, {"price", 30}}).value();
    REQUIRE(engine.jetstream()->wait_for(1, kWait));
  }
  Engine::open(primary_dir, with({"note"}), options).value();  // version 2: no event under it
  auto engine = Engine::open(primary_dir, with({"note", "colour"}), options).value();
  REQUIRE(engine.model_version() == 3);
  engine.create("Item", {{"name", "desk"}, {"price", 120}, {"colour", "oak"}}).value();
  REQUIRE(engine.jetstream()->wait_for(2, kWait));

  auto replica = Replica::start(dir.sub("replica"), replica_options(server, "SHOP")).value();
  REQUIRE(replica->wait_for(2, kWait));
  CHECK(replica->error().empty());
  replica.reset();
  auto versions = [](const std::string& store) {
    auto log = Log::open_read_only(store).value();
    auto txn = log->read().value();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;  // version, since
    for (const auto& m : log->models(txn).value()) out.emplace_back(m.version, m.since);
    return out;
  };
  auto expected = versions(primary_dir);
  REQUIRE(expected.size() == 3);
  CHECK(expected[1] == std::pair<std::uint64_t, std::uint64_t>{2, 2});
  CHECK(versions(dir.sub("replica")) == expected);
  CHECK(items(dir.sub("replica")).at(1)["colour"] == Value("oak"));
}
