// Subscribers in other processes, reading a store that holds an event that does not
// decode: they print the events before it, then the error, and exit with status 1
// instead of waiting forever.
#include "child_process.hpp"
#include "damaged_store.hpp"
#include "notify_helpers.hpp"

#include <nlohmann/json.hpp>

using namespace ashlar;
using namespace ashlar::test;
using nlohmann::json;

TEST_CASE("ashlar subscribe prints the events before one that does not decode, then its error, and exits 1") {
  TempDir dir;
  StoreWithBadEvent store = store_with_bad_event(dir.sub("store"), 6, 4);
  auto log = Log::open_read_only(store.path).value();
  auto service = ReplayService::start(*log, {.endpoint = "ipc://" + dir.sub("replay.sock")}).value();
  std::string nobody = "ipc://" + dir.sub("nobody.sock");  // nothing publishes: all comes from replay

  ChildProcess sub({ASHLAR_CLI, "subscribe", "--pub", nobody, "--replay", service->endpoint(), "--from", "1", "--json"},
                   dir.sub("sub.out"), dir.sub("sub.err"));
  REQUIRE(sub.wait(10s) == 1);
  auto printed = read_lines(dir.sub("sub.out"));
  REQUIRE(printed.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(json::parse(printed[i])["position"] == i + 1);
  CHECK(read_lines(dir.sub("sub.err")) ==
        std::vector<std::string>{"ashlar: the replay service at " + service->endpoint() + " failed: " +
                                 store.decode_error()});
}

TEST_CASE("examples/subscriber handles the events before one that does not decode, then exits 1 naming it") {
  TempDir dir;
  StoreWithBadEvent store = store_with_bad_event(dir.sub("store"), 6, 4);
  auto log = Log::open_read_only(store.path).value();
  auto service = ReplayService::start(*log, {.endpoint = "ipc://" + dir.sub("replay.sock")}).value();

  ChildProcess sub({ASHLAR_SUBSCRIBER_EXAMPLE, "--pub", "ipc://" + dir.sub("nobody.sock"), "--replay",
                    service->endpoint(), "--state", dir.sub("state")},
                   dir.sub("sub.out"), dir.sub("sub.err"));
  REQUIRE(sub.wait(10s) == 1);
  CHECK(read_lines(dir.sub("sub.out")).size() == 3);  // one effect line per event handled
  auto errors = read_lines(dir.sub("sub.err"));
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.back().find("failed: " + store.decode_error()) != std::string::npos);
}
