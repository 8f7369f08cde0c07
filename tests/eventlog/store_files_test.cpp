// Opening a store whose files are damaged or half made: data.mdb cut short, empty, a
// first open killed early, first opens racing; and reading every page in a child.
#include <ashlar/eventlog/log.hpp>

#include "support/lmdb_tamper.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

// A closed store of `n` events, each carrying a ~1 KB value so they span many pages.
void write_store(const std::string& dir, int n) {
  auto log = Log::open(dir).value();
  for (int i = 1; i <= n; ++i)
    log->write([&](Txn& txn) -> Result<void> {
         Event e;
         e.domain = "d";
         e.resource = "A";
         e.action = "create";
         e.type = ActionType::create;
         e.version = 1;
         e.key = {{"id", i}};
         e.changes = {{"id", i}, {"text", Value(std::string(1000, static_cast<char>('a' + i % 26)))}};
         auto s = log->append(txn, e);
         return s ? Result<void>() : fail(s.error());
       }).value();
}

void touch(const std::string& path) { std::ofstream(path, std::ios::binary).flush(); }

std::string short_message(const std::string& dir, std::size_t size, std::size_t needed) {
  return dir + " is damaged: data.mdb is " + std::to_string(size) + " bytes, the store needs " +
         std::to_string(needed);
}

}  // namespace

TEST_CASE("a data.mdb cut short is store_damaged for readers and the writer, never a SIGBUS") {
  TempDir dir;
  write_store(dir.path(), 120);
  auto [page, needed] = test::data_size(dir.path());
  REQUIRE(needed >= 40 * page);
  std::size_t cut = 0;
  SECTION("to half") { cut = needed / 2; }
  SECTION("to three pages") { cut = 3 * page; }
  SECTION("to two pages: the meta pages alone") { cut = 2 * page; }
  test::truncate_data(dir.path(), cut);
  std::string expected = short_message(dir.path(), cut, needed);
  auto ro = Log::open_read_only(dir.path());
  REQUIRE_FALSE(ro.has_value());
  CHECK(ro.error().message == expected);
  CHECK(ro.error().code == "store_damaged");
  CHECK(ro.error().cls == ErrorClass::unknown);
  auto rw = Log::open(dir.path());
  REQUIRE_FALSE(rw.has_value());
  CHECK(rw.error().message == expected);
  CHECK(rw.error().code == "store_damaged");
  CHECK(std::filesystem::file_size(dir.sub("data.mdb")) == cut);  // the writer left it as it was
}

TEST_CASE("a data.mdb cut inside its meta pages, or with a damaged second meta page, is store_damaged") {
  TempDir dir;
  write_store(dir.path(), 3);
  std::size_t page = test::data_size(dir.path()).page_size;
  SECTION("cut inside the first meta page") {
    test::truncate_data(dir.path(), 100);
    CHECK(Log::open_read_only(dir.path()).error().message == short_message(dir.path(), 100, 152));
  }
  SECTION("the second meta page overwritten") {
    test::overwrite_page(dir.path(), page, 0);
    auto r = Log::open_read_only(dir.path());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == dir.path() + " is damaged: data.mdb's second meta page (at byte " +
                                   std::to_string(page) + ") is not an LMDB meta page");
    CHECK(r.error().code == "store_damaged");
    CHECK(Log::open(dir.path()).error().message == r.error().message);
  }
}

TEST_CASE("an empty data.mdb is a clear error unless a first open of ours left it") {
  TempDir dir;
  std::filesystem::create_directories(dir.sub("s"));
  std::string s = dir.sub("s");
  touch(s + "/data.mdb");
  SECTION("alone: refused by readers and the writer alike") {
    CHECK(Log::open_read_only(s).error().message == s + " is not an ashlar store: data.mdb is empty");
    auto w = Log::open(s);
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().message == s + " is not an ashlar store: data.mdb is empty, and no writer.lock shows that an "
                                   "ashlar first open left it; remove it to start a new store");
    CHECK(std::filesystem::file_size(s + "/data.mdb") == 0);
  }
  SECTION("beside writer.lock and lock.mdb: a first open killed early, which the writer finishes") {
    touch(s + "/writer.lock");
    touch(s + "/lock.mdb");
    auto r = Log::open_read_only(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == s + " is not initialized yet: its first open for writing has not finished (opening "
                                   "it for writing initializes it)");
    CHECK(r.error().code == "store_not_initialized");
    {
      auto log = Log::open(s).value();
      CHECK(log->head().value().position == 0);
    }
    write_store(s, 2);
    CHECK(Log::open_read_only(s).value()->head().value().position == 2);
  }
}

TEST_CASE("a directory holding only writer.lock (and lock.mdb) opens as a new store, foreign files are refused") {
  TempDir dir;
  std::string s = dir.sub("s");
  std::filesystem::create_directories(s);
  touch(s + "/writer.lock");
  SECTION("writer.lock alone") {}
  SECTION("writer.lock and lock.mdb") { touch(s + "/lock.mdb"); }
  SECTION("and a foreign file") {
    touch(s + "/notes.txt");
    auto r = Log::open(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == s + " is not an ashlar store: it holds other files; use a new or empty directory");
    CHECK(Log::open_read_only(s).error().message == s + " is not an ashlar store: it has no data.mdb");
    return;
  }
  CHECK(Log::open_read_only(s).error().code == "store_not_initialized");
  write_store(s, 1);
  CHECK(Log::open_read_only(s).value()->head().value().position == 1);
}

TEST_CASE("first opens racing from several processes: one wins, the others get writer_locked") {
  constexpr int kRacers = 6;
  TempDir dir;
  std::string s = dir.sub("s");
  int start[2], results[2], release[2];
  REQUIRE(::pipe(start) == 0);
  REQUIRE(::pipe(results) == 0);
  REQUIRE(::pipe(release) == 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < kRacers; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(start[1]);
      ::close(release[1]);
      char c;
      (void)::read(start[0], &c, 1);  // all start together when the parent closes it
      auto log = Log::open(s);
      char outcome = log ? 'w' : log.error().code == "writer_locked" ? 'c' : 'x';
      (void)::write(results[1], &outcome, 1);
      (void)::read(release[0], &c, 1);  // the winner holds the store until all have tried
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  ::close(start[0]);
  ::close(release[0]);
  ::close(results[1]);
  ::close(start[1]);
  std::string outcomes;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (outcomes.size() < kRacers && std::chrono::steady_clock::now() < deadline) {
    pollfd p{results[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char c;
    if (::read(results[0], &c, 1) != 1) break;
    outcomes += c;
  }
  ::close(release[1]);
  for (pid_t pid : pids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  ::close(results[0]);
  REQUIRE(outcomes.size() == kRacers);
  CHECK(std::count(outcomes.begin(), outcomes.end(), 'w') == 1);
  CHECK(std::count(outcomes.begin(), outcomes.end(), 'c') == kRacers - 1);
  write_store(s, 1);  // the store the winner made is whole
  CHECK(Log::open_read_only(s).value()->head().value().position == 1);
}

TEST_CASE("check_pages reads every page in a child: a damaged page is store_damaged and the caller goes on") {
  TempDir dir;
  write_store(dir.path(), 8);
  CHECK(Log::open_read_only(dir.path()).value()->check_pages().has_value());
  std::size_t offset = test::value_offset(dir.path(), "events", be64(4));
  std::string prefix = "damaged store: " + dir.path() + ": ";
  SECTION("a page of zeros: LMDB fails an assertion, which aborts the child") {
    test::overwrite_page(dir.path(), offset, 0);
    auto checked = Log::open_read_only(dir.path()).value()->check_pages();
    REQUIRE_FALSE(checked.has_value());
    const std::string& m = checked.error().message;
    CHECK(m.rfind(prefix + "mdb.c:", 0) == 0);
    CHECK(m.find(": Assertion 'IS_LEAF(mp)' failed in mdb_cursor_next(); LMDB aborted on a damaged page") !=
          std::string::npos);
    CHECK(checked.error().code == "store_damaged");
  }
  SECTION("a page of garbage: LMDB faults or asserts in the child") {
    test::overwrite_page(dir.path(), offset, std::nullopt);
    auto checked = Log::open_read_only(dir.path()).value()->check_pages();
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().message.rfind(prefix, 0) == 0);
    CHECK(checked.error().code == "store_damaged");
  }
}
