// Read replicas against a real nats-server (started here, on loopback): a primary Engine
// mirrors its log into JetStream; a Replica applies the stream into a store of its own,
// which then reads as the primary does and has the primary's head. The command line's
// replica survives SIGKILL; a tampered message stops a replica, keeping what came before.
#include "notifiers/child_process.hpp"
#include "support/blog_domain.hpp"
#include "support/nats_server.hpp"
#include "support/stream_contents.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/store_reader.hpp>

using namespace ashlar;
using namespace ashlar::test;

namespace {

constexpr auto kWait = std::chrono::seconds(30);  // a bound for a hang, not a timing claim

Options mirrored(const NatsServer& server) {
  Options o;
  o.durability = Durability::no_sync;
  o.jetstream = {.url = server.url(), .stream = "BLOG", .create = true};
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
