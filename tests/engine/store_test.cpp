// The store across opens, processes and threads, and as it grows.
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::blog_domain;
using ashlar::test::log_length;
using ashlar::test::TempDir;

TEST_CASE("data survives closing and reopening the engine") {
  TempDir dir;
  Value id;
  {
    auto engine = Engine::open(dir.path(), blog_domain()).value();
    id = engine.create("User", {{"name", "Alice"}}).value().id();
    engine.update("User", id, {{"age", 40}}).value();
  }
  auto engine = Engine::open(dir.path(), blog_domain()).value();
  auto alice = engine.get("User", id).value();
  CHECK(alice["name"] == Value("Alice"));
  CHECK(alice["age"] == Value(40));
  CHECK(alice.version() == 2);
  engine.create("User", {{"name", "Bob"}}).value();
  CHECK(all_events(engine.log()).back().event.position == 3);
}

TEST_CASE("an engine on a store created in format 1 keeps it format 1: actions, history, verify and rebuild") {
  TempDir dir;
  LogOptions first;
  first.format_version = 1;
  { Log::open(dir.path(), first).value(); }
  Value alice, bob;
  {
    auto engine = Engine::open(dir.path(), blog_domain()).value();
    CHECK(engine.log().format_version() == 1);
    alice = engine.create("User", {{"name", "Alice"}}).value().id();
    bob = engine.create("User", {{"name", "Bob"}}).value().id();
    engine.update("User", alice, {{"age", 41}}).value();
    engine.destroy("User", bob).value();
  }
  auto engine = Engine::open(dir.path(), blog_domain()).value();
  CHECK(engine.log().format_version() == 1);
  CHECK(engine.get("User", alice).value()["age"] == Value(41));
  auto history = engine.history("User", alice).value();
  REQUIRE(history.size() == 2);
  CHECK(history[1].event.action == "update");
  auto events = all_events(engine.log());
  REQUIRE(events.size() == 4);
  CHECK(history[1].hash == events[2].hash);
  CHECK(engine.log().head().value().hash == events.back().hash);
  auto verified = engine.verify().value();
  CHECK(verified.problems.empty());
  CHECK(verified.events == 4);
  CHECK(engine.rebuild().value().events == 4);
  engine.create("User", {{"name", "Carol"}}).value();
  CHECK(engine.verify().value().problems.empty());
  CHECK(all_events(engine.log()).back().event.position == 5);
}

TEST_CASE("a compatible model change opens the store, an incompatible one is a clear error") {
  TempDir dir;
  { Engine::open(dir.path(), blog_domain()).value().create("User", {{"name", "A"}}).value(); }

  auto grown = domain("blog")
                   .resource(resource("User")
                                 .uuid_primary_key("id")
                                 .attribute("name", type::string, {.allow_nil = false})
                                 .attribute("email", type::string)
                                 .attribute("age", type::integer)
                                 .attribute("password", type::string, {.sensitive = true})
                                 .attribute("role", type::atom)
                                 .attribute("nickname", type::string)  // new, may be nil
                                 .create_timestamp("inserted_at")
                                 .update_timestamp("updated_at")
                                 .defaults({"read", "create:*", "update:*"}))
                   .resource(resource("Comment")
                                 .uuid_primary_key("id")
                                 .attribute("content", type::string)
                                 .attribute("user_id", type::uuid)
                                 .defaults({"read"}))
                   .resource(resource("Tag")
                                 .attribute("scope", type::string, {.primary_key = true})
                                 .attribute("name", type::string, {.primary_key = true})
                                 .attribute("score", type::floating)
                                 .attribute("active", type::boolean)
                                 .attribute("since", type::date)
                                 .attribute("seen_at", type::utc_datetime)
                                 .attribute("blob", type::binary)
                                 .attribute("meta", type::map)
                                 .attribute("aliases", type::array(type::string))
                                 .attribute("owner", type::uuid))
                   .resource(resource("Post").uuid_primary_key("id").defaults({"read"}))
                   .build()
                   .value();
  {
    auto engine = Engine::open(dir.path(), grown).value();
    CHECK(engine.read("User").value().size() == 1);
  }

  auto changed = domain("blog")
                     .resource(resource("User")
                                   .uuid_primary_key("id")
                                   .attribute("name", type::integer)
                                   .attribute("level", type::integer, {.allow_nil = false}))
                     .build()
                     .value();
  auto refused = Engine::open(dir.path(), changed);
  REQUIRE_FALSE(refused.has_value());
  const Error& e = refused.error();
  CHECK(e.cls == ErrorClass::framework);
  CHECK(e.message == "the model does not fit the store at " + dir.path());
  std::vector<std::string> problems;
  for (const auto& f : e.fields) problems.push_back(f.message);
  CHECK(problems == std::vector<std::string>{
                        "User.name: type changed from string to integer",
                        "User.email: attribute removed, but the log has its values",
                        "User.age: attribute removed, but the log has its values",
                        "User.password: attribute removed, but the log has its values",
                        "User.role: attribute removed, but the log has its values",
                        "User.nickname: attribute removed, but the log has its values",
                        "User.inserted_at: attribute removed, but the log has its values",
                        "User.updated_at: attribute removed, but the log has its values",
                        "User.level: new attribute that may not be nil has no default for the records already stored",
                        "Comment: resource removed, but the log has its events",
                        "Tag: resource removed, but the log has its events",
                        "Post: resource removed, but the log has its events",
                    });
  auto other_domain = Engine::open(dir.path(), domain("shop").resource(resource("X").uuid_primary_key("id")).build().value());
  REQUIRE_FALSE(other_domain.has_value());
  CHECK(other_domain.error().fields.at(0).message == "the store holds domain blog, not shop");
}

TEST_CASE("one writer at a time, readers open beside it") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), blog_domain()).value();
  engine.create("User", {{"name", "A"}}).value();

  auto second = Engine::open(dir.path(), blog_domain());
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().cls == ErrorClass::conflict);
  CHECK(second.error().message == dir.path() +
                                      " is already open for writing by another process or engine; one writer at a "
                                      "time (readers may open it read-only)");

  // A read-only open in a forked process (LMDB forbids opening one environment twice in a
  // process) sees the committed event while the writer is open.
  pid_t pid = fork();
  if (pid == 0) {
    auto reader = Log::open_read_only(dir.path());
    if (!reader) _exit(2);
    auto txn = (*reader)->read();
    _exit(txn && (*reader)->head(*txn).value().position == 1 ? 0 : 3);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("opening a path that is not a store is a clear error") {
  TempDir dir;
  std::ofstream(dir.sub("file")) << "x";
  auto on_file = Engine::open(dir.sub("file"), blog_domain());
  REQUIRE_FALSE(on_file.has_value());
  CHECK(on_file.error().message == dir.sub("file") + " is not an ashlar store: it is a file, not a directory");
  auto on_busy_dir = Engine::open(dir.path(), blog_domain());
  REQUIRE_FALSE(on_busy_dir.has_value());
  CHECK(on_busy_dir.error().message ==
        dir.path() + " is not an ashlar store: it holds other files; use a new or empty directory");
  auto read_only = Log::open_read_only(dir.sub("nothing"));
  REQUIRE_FALSE(read_only.has_value());
  CHECK(read_only.error().message == dir.sub("nothing") + " is not an ashlar store: no such directory");
}

TEST_CASE("the map grows by itself, and past its limit an action fails whole") {
  TempDir dir;
  Options options;
  options.initial_map_size = 256 << 10;
  options.max_map_size = 8 << 20;
  options.durability = Durability::no_sync;
  auto engine = Engine::open(dir.sub("store"), blog_domain(), options).value();
  std::string text(20000, 'x');
  // About 2.5 MB (each comment is stored in its event and in the projection): several
  // doublings past 256 KiB.
  for (int i = 0; i < 60; ++i) engine.create("Comment", {{"content", text}, {"user_id", Uuid::v4()}}).value();
  CHECK(engine.log().map_size() > options.initial_map_size);
  CHECK(engine.read("Comment").value().size() == 60);

  // Fill up to the limit: the action that does not fit fails and leaves nothing behind.
  Result<Record> last = engine.create("Comment", {{"content", text}, {"user_id", Uuid::v4()}});
  int created = 60;
  for (int i = 0; i < 400 && last.has_value(); ++i, ++created)
    last = engine.create("Comment", {{"content", text}, {"user_id", Uuid::v4()}});
  REQUIRE_FALSE(last.has_value());
  CHECK(last.error().message == "the store is full: it reached its size limit of 8 MiB (max_map_size); nothing was written");
  CHECK(log_length(engine.log()) == static_cast<std::uint64_t>(created));
  CHECK(engine.read("Comment").value().size() == static_cast<std::size_t>(created));
  // Still usable: smaller actions may fit, reads work.
  CHECK(engine.log().map_size() == options.max_map_size);
}

TEST_CASE("many threads write and read one engine, positions stay gapless") {
  TempDir dir;
  Options options;
  options.durability = Durability::no_sync;
  auto engine = Engine::open(dir.path(), blog_domain(), options).value();
  constexpr int kWriters = 4, kPerWriter = 150;
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto u = engine.create("User", {{"name", fmt::format("u{}-{}", w, i)}});
        if (!u || !engine.update("User", u->id(), {{"age", i}})) ++failures;
      }
    });
  std::atomic<std::size_t> reads{0};
  std::thread reader([&] {
    std::size_t last = 0;
    for (int i = 0; i < 2000 && !done; ++i) {
      auto users = engine.read("User");
      if (!users || users->size() < last) ++failures;  // snapshots only move forward
      last = users ? users->size() : last;
      ++reads;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  CHECK(failures == 0);
  CHECK(reads > 0);
  auto events = all_events(engine.log());
  REQUIRE(events.size() == kWriters * kPerWriter * 2);
  for (std::size_t i = 0; i < events.size(); ++i) REQUIRE(events[i].event.position == i + 1);
  CHECK(engine.read("User").value().size() == kWriters * kPerWriter);
}
