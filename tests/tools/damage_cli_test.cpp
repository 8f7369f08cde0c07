// The command line on damaged and half-made stores: data.mdb cut short or empty, a first
// open killed early, a page overwritten (verify --deep), a damaged stored model. Every
// run must end in a normal exit with one line of error, never a signal.
#include "support/domains.hpp"
#include "support/lmdb_tamper.hpp"
#include "support/random_actions.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace {

using namespace ashlar;
using test::CliRun;
using test::run_ashlar;
using test::TempDir;

// A closed helpdesk store with enough history to span many pages.
struct DamageStore {
  TempDir tmp;
  std::string path = tmp.sub("store");
  DamageStore() {
    auto engine = Engine::open(path, test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
    test::RandomActions(engine, 7).run(120);
  }
};

// Exit code 1 and exactly `line` on stderr (after "ashlar: "), nothing on stdout.
void require_error(const CliRun& run, const std::string& line) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.code == 1);
  CHECK(run.out.empty());
  REQUIRE(run.err_lines.size() == 1);
  CHECK(run.err_lines[0] == "ashlar: " + line);
}

void touch(const std::string& path) { std::ofstream(path, std::ios::binary).flush(); }

}  // namespace

TEST_CASE("every command refuses a data.mdb cut short with one line, never a SIGBUS") {
  DamageStore store;
  auto [page, needed] = test::data_size(store.path);
  REQUIRE(needed >= 8 * page);
  std::size_t cut = 0;
  SECTION("to half") { cut = needed / 2; }
  SECTION("to three pages") { cut = 3 * page; }
  SECTION("to two pages") { cut = 2 * page; }
  test::truncate_data(store.path, cut);
  std::string expected = store.path + " is damaged: data.mdb is " + std::to_string(cut) +
                         " bytes, the store needs " + std::to_string(needed);
  for (const char* command : {"log", "stats", "head", "verify", "rebuild"}) {
    INFO(command);
    require_error(run_ashlar({command, store.path}), expected);
  }
  require_error(run_ashlar({"state", store.path, "Ticket", "1"}), expected);
}

TEST_CASE("ashlar says a store whose first open was killed early is not initialized yet") {
  TempDir tmp;
  std::string dir = tmp.sub("store");
  std::filesystem::create_directories(dir);
  touch(dir + "/writer.lock");
  SECTION("writer.lock alone") {}
  SECTION("with lock.mdb and an empty data.mdb") {
    touch(dir + "/lock.mdb");
    touch(dir + "/data.mdb");
  }
  std::string expected = dir + " is not initialized yet: its first open for writing has not finished (opening it "
                               "for writing initializes it)";
  for (const char* command : {"log", "stats", "verify"}) {
    INFO(command);
    require_error(run_ashlar({command, dir}), expected);
  }
  { auto engine = Engine::open(dir, test::helpdesk_domain()).value(); }
  CliRun log = run_ashlar({"log", dir});
  CHECK(log.code == 0);
  CHECK(log.err.empty());
}

TEST_CASE("ashlar refuses an empty data.mdb with one line") {
  TempDir tmp;
  touch(tmp.sub("data.mdb"));
  for (const char* command : {"log", "stats", "verify"}) {
    INFO(command);
    require_error(run_ashlar({command, tmp.path()}), tmp.path() + " is not an ashlar store: data.mdb is empty");
  }
}

TEST_CASE("ashlar verify --deep reads every page in a child: a damaged page is reported, the command survives") {
  DamageStore store;
  CliRun clean = run_ashlar({"verify", store.path, "--deep"});
  INFO(clean.err);
  REQUIRE(clean.code == 0);
  REQUIRE(clean.out_lines.size() == 1);
  CHECK(clean.out_lines[0].find("; every page of the store reads; ") != std::string::npos);
  std::size_t offset = test::value_offset(store.path, "events", be64(20));
  std::string prefix = "ashlar: damaged store: " + store.path + ": ";
  SECTION("a page of zeros: LMDB fails an assertion, in the child") {
    test::overwrite_page(store.path, offset, 0);
    CliRun run = run_ashlar({"verify", store.path, "--deep"});
    INFO(run.err);
    CHECK(run.code == 1);
    CHECK(run.out.empty());
    REQUIRE(run.err_lines.size() == 1);
    const std::string& line = run.err_lines[0];
    CHECK(line.rfind(prefix + "mdb.c:", 0) == 0);
    std::string tail = ": Assertion 'IS_LEAF(mp)' failed in mdb_cursor_next(); LMDB aborted on a damaged page";
    CHECK(line.size() > tail.size());
    CHECK(line.substr(line.size() - tail.size()) == tail);
  }
  SECTION("a page of garbage") {
    test::overwrite_page(store.path, offset, std::nullopt);
    CliRun run = run_ashlar({"verify", store.path, "--deep"});
    INFO(run.err);
    CHECK(run.code == 1);
    REQUIRE(run.err_lines.size() == 1);
    CHECK(run.err_lines[0].rfind(prefix, 0) == 0);
  }
}

TEST_CASE("ashlar verify reports a stored model that was changed behind the log") {
  DamageStore store;
  test::flip_value_byte(store.path, "meta", "model", "\"helpdesk\"");  // the domain is now "ielpdesk"
  CliRun run = run_ashlar({"verify", store.path});
  INFO(run.out << run.err);
  CHECK(run.code == 1);
  std::string problem = "the stored model (meta/model) is not its latest version, 1: one of them was changed";
  CHECK(std::find(run.out_lines.begin(), run.out_lines.end(), "problem: " + problem) != run.out_lines.end());
  REQUIRE(run.err_lines.size() == 1);
  CHECK(run.err_lines[0].rfind("ashlar: " + store.path + " fails verification: ", 0) == 0);
}
