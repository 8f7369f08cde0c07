// The Engine on damaged and half-made stores: data.mdb cut short or empty, a first open
// killed early, a damaged page (verify with deep), a stored model changed behind the log.
#include "support/domains.hpp"
#include "support/lmdb_tamper.hpp"
#include "support/random_actions.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/model/key.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

void fill(const std::string& path, int actions) {
  auto engine = Engine::open(path, test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
  test::RandomActions(engine, 11).run(actions);
}

void touch(const std::string& path) { std::ofstream(path, std::ios::binary).flush(); }

}  // namespace

TEST_CASE("Engine::open refuses a data.mdb cut short with store_damaged instead of a SIGBUS") {
  TempDir dir;
  fill(dir.path(), 120);
  auto [page, needed] = test::data_size(dir.path());
  std::size_t cut = 0;
  SECTION("to half") { cut = needed / 2; }
  SECTION("to three pages") { cut = 3 * page; }
  SECTION("to two pages") { cut = 2 * page; }
  test::truncate_data(dir.path(), cut);
  auto engine = Engine::open(dir.path(), test::helpdesk_domain());
  REQUIRE_FALSE(engine.has_value());
  CHECK(engine.error().message == dir.path() + " is damaged: data.mdb is " + std::to_string(cut) +
                                      " bytes, the store needs " + std::to_string(needed));
  CHECK(engine.error().code == "store_damaged");
}

TEST_CASE("Engine::open finishes a first open killed early, and refuses an empty data.mdb it did not leave") {
  TempDir dir;
  std::string s = dir.sub("s");
  std::filesystem::create_directories(s);
  SECTION("writer.lock, lock.mdb and an empty data.mdb: a new store") {
    for (const char* name : {"writer.lock", "lock.mdb", "data.mdb"}) touch(s + "/" + name);
    auto engine = Engine::open(s, test::helpdesk_domain()).value();
    engine.create("Representative", {{"name", "first"}}).value();
    CHECK(engine.log().head().value().position == 1);
  }
  SECTION("an empty data.mdb alone: refused, and left as it was") {
    touch(s + "/data.mdb");
    auto engine = Engine::open(s, test::helpdesk_domain());
    REQUIRE_FALSE(engine.has_value());
    CHECK(engine.error().message == s + " is not an ashlar store: data.mdb is empty, and no writer.lock shows that "
                                        "an ashlar first open left it; remove it to start a new store");
    CHECK(engine.error().cls == ErrorClass::framework);
    CHECK(std::filesystem::file_size(s + "/data.mdb") == 0);
  }
}

TEST_CASE("Engine::verify with deep reads every page in a child: a damaged page is an error, the caller goes on") {
  TempDir dir;
  fill(dir.path(), 80);
  std::size_t offset = test::value_offset(dir.path(), "events", be64(20));
  test::overwrite_page(dir.path(), offset, std::nullopt);
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto deep = engine.verify({.deep = true});
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error().code == "store_damaged");
  CHECK(deep.error().message.rfind("damaged store: " + dir.path() + ": ", 0) == 0);
  CHECK(engine.log().head().value().position > 20);  // this process is alive and reads on
}

TEST_CASE("Engine::verify reports a stored model changed behind the log") {
  TempDir dir;
  fill(dir.path(), 10);
  test::flip_value_byte(dir.path(), "meta", "model", "\"helpdesk\"");  // the domain is now "ielpdesk"
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto report = engine.verify().value();
  CHECK(report.problems ==
        std::vector<std::string>{"the stored model (meta/model) is not its latest version, 1: one of them was changed"});
}

TEST_CASE("a history index entry that names another record's event is damage, not that record's history") {
  TempDir dir;
  Value first, second;
  {
    auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
    first = engine.create("Representative", {{"name", "Ann"}}).value().id();
    second = engine.create("Representative", {{"name", "Bob"}}).value().id();
  }
  // Ann's create (position 1) as the history index holds it, pointed at Bob's (position 2).
  std::vector<Value> key{first};
  test::poke_entry(dir.path(), "by_record", std::string("Representative") + '\0' + encode_key(key) + be64(1), be64(2));
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto history = engine.history("Representative", first);
  REQUIRE_FALSE(history.has_value());
  CHECK(history.error().code == "store_damaged");
  CHECK(history.error().message == "the store is corrupted: the history index of Representative names event 2, which "
                                   "is not that record's (ashlar verify tells more)");
  CHECK(engine.history("Representative", second).value().size() == 1);
  CHECK_FALSE(engine.verify().value().ok());
}
