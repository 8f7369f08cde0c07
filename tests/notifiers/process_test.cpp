// Subscribers in other processes: examples/subscriber killed with SIGKILL and restarted
// from its checkpoint, and `ashlar subscribe`, which needs no store directory.
#include "child_process.hpp"
#include "notify_helpers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace ashlar;
using namespace ashlar::test;
using nlohmann::json;

namespace {

// Commits `count` users, pausing 3 ms after every `every`: about 2 s in all, so that the
// restarts below land while events keep coming.
std::jthread steady_writer(EventSource& source, int count, int every) {
  return std::jthread([&source, count, every] {
    for (int i = 0; i < count; ++i) {
      create_user(source, i);
      if (i % every == 0) std::this_thread::sleep_for(3ms);
    }
  });
}

// Kills the subscriber three times at growing intervals, each time restarting it from
// its checkpoint; then lets it run to the last event. `progress` tells how far it got.
template <typename Progress>
void crash_and_resume(const std::vector<std::string>& argv, const TempDir& dir, std::uint64_t last,
                      Progress progress) {
  std::string out = dir.sub("child.out"), err = dir.sub("child.err");
  for (int round = 0; round < 3; ++round) {
    ChildProcess child(argv, out, err);
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 120 * round));
    INFO(read_file(err));
    REQUIRE_FALSE(child.wait(0ms).has_value());  // still running: the writer is not done
    child.kill();
    INFO("killed after position " << progress());
    CHECK(progress() < last);  // it died mid-stream
  }
  ChildProcess final_run(argv, out, err);
  INFO(read_file(err));
  REQUIRE(final_run.wait(30s) == 0);
}

std::vector<std::uint64_t> positions_in(const std::vector<std::string>& lines) {
  std::vector<std::uint64_t> out;
  for (const auto& line : lines) out.push_back(std::stoull(line.substr(0, line.find(' '))));
  return out;
}

// The effects examples/subscriber stored in its LMDB state, in the order it stored them.
std::vector<std::string> lmdb_effects(const std::string& state) {
  auto log = Log::open_read_only(state).value();
  auto effects = log->database("effects").value();
  auto txn = log->read().value();
  auto cursor = txn.cursor(effects).value();
  std::vector<std::string> out;
  for (auto found = cursor.first().value(); found; found = cursor.next().value())
    out.emplace_back(cursor.value());
  return out;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("a subscriber killed with SIGKILL resumes from a checkpoint stored with its effects: "
          "nothing missed, nothing repeated", "[slow]") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  std::string state = dir.sub("state");
  constexpr int kEvents = 3000;
  std::vector<std::string> argv = {ASHLAR_SUBSCRIBER_EXAMPLE, "--pub", endpoints.publish, "--replay", endpoints.replay,
                                   "--state", state, "--until", std::to_string(kEvents), "--quiet"};
  auto writer = steady_writer(source, kEvents, 4);
  crash_and_resume(argv, dir, kEvents, [&]() -> std::uint64_t {
    if (!std::filesystem::exists(state + "/data.mdb")) return 0;
    auto effects = lmdb_effects(state);
    return effects.empty() ? 0 : positions_in(effects).back();
  });
  writer.join();
  CHECK(positions_in(lmdb_effects(state)) == one_to(kEvents));  // each position once, in order
}

TEST_CASE("a subscriber killed with SIGKILL resumes from a checkpoint file: nothing missed", "[slow]") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints);
  std::string output = dir.sub("effects.txt");
  // Fewer events: a rename per event makes this mode about 1 ms an event.
  constexpr int kEvents = 1500;
  std::vector<std::string> argv = {ASHLAR_SUBSCRIBER_EXAMPLE, "--pub", endpoints.publish, "--replay", endpoints.replay,
                                   "--checkpoint", dir.sub("checkpoint"), "--output", output,
                                   "--until", std::to_string(kEvents), "--quiet"};
  auto writer = steady_writer(source, kEvents, 2);
  crash_and_resume(argv, dir, kEvents, [&]() -> std::uint64_t {
    auto lines = read_lines(output);
    return lines.empty() ? 0 : positions_in(lines).back();
  });
  writer.join();
  auto positions = positions_in(read_lines(output));
  std::set<std::uint64_t> distinct(positions.begin(), positions.end());
  auto all = one_to(kEvents);
  CHECK(distinct == std::set<std::uint64_t>(all.begin(), all.end()));
  // A kill between the effect and the checkpoint's rename repeats one event, at most
  // one per kill; the effects are still in order.
  CHECK(positions.size() - distinct.size() <= 3);
  CHECK(std::is_sorted(positions.begin(), positions.end()));
}

TEST_CASE("ashlar subscribe prints what ashlar log --json prints, without a store, and exits cleanly on SIGTERM") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto alice = source.create("User", {{"name", "Alice"}, {"password", "hunter2"}});
  source.create("Comment", {{"content", "first"}, {"user_id", alice}});
  source.update("User", alice, {{"age", 30}});
  source.create("Comment", {{"content", "second"}, {"user_id", alice}});

  {
    ChildProcess log({ASHLAR_CLI, "log", "--json", dir.sub("store")}, dir.sub("log.out"), dir.sub("log.err"));
    REQUIRE(log.wait(10s) == 0);
  }
  ChildProcess sub({ASHLAR_CLI, "subscribe", "--pub", endpoints.publish, "--replay", endpoints.replay, "--from", "1",
                    "--count", "4", "--json"},
                   dir.sub("sub.out"), dir.sub("sub.err"));
  REQUIRE(sub.wait(10s) == 0);
  auto logged = read_lines(dir.sub("log.out"));
  auto streamed = read_lines(dir.sub("sub.out"));
  REQUIRE(logged.size() == 4);
  REQUIRE(streamed.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    json expected = json::parse(logged[i]);
    expected.erase("hash");  // not on the wire
    CHECK(json::parse(streamed[i]) == expected);
  }
  CHECK(streamed[0].find("hunter2") == std::string::npos);  // the served model says it is sensitive
  CHECK(streamed[0].find("**redacted**") != std::string::npos);

  ChildProcess comments({ASHLAR_CLI, "subscribe", "--pub", endpoints.publish, "--replay", endpoints.replay,
                         "--resource", "Comment", "--from", "2"},
                        dir.sub("comments.out"), dir.sub("comments.err"));
  REQUIRE(eventually([&] { return read_lines(dir.sub("comments.out")).size() == 2; }));
  source.create("Comment", {{"content", "live"}, {"user_id", alice}});
  create_user(source, 9);  // not a Comment: not printed
  REQUIRE(eventually([&] { return read_lines(dir.sub("comments.out")).size() == 3; }));
  comments.signal(SIGTERM);
  REQUIRE(comments.wait(5s) == 0);
  auto lines = read_lines(dir.sub("comments.out"));
  CHECK(lines.size() == 3);
  for (const auto& line : lines) CHECK(line.find("Comment.create") != std::string::npos);
  CHECK(read_file(dir.sub("comments.err")).empty());
}

TEST_CASE("ashlar subscribe --tenant prints that tenant's events alone, as ashlar log --tenant does, then live ones") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  auto source = publishing_source(dir.sub("store"), endpoints);
  auto create = [&](const std::string& name, const std::string& tenant) {
    Event e = source.creation("User", {{"name", name}});
    e.tenant = tenant;
    source.commit({e});
  };
  for (int i = 0; i < 9; ++i) create("user " + std::to_string(i), i % 3 == 0 ? "acme" : i % 3 == 1 ? "globex" : "");

  {
    ChildProcess log({ASHLAR_CLI, "log", "--json", "--tenant", "acme", dir.sub("store")}, dir.sub("log.out"),
                     dir.sub("log.err"));
    REQUIRE(log.wait(10s) == 0);
  }
  ChildProcess sub({ASHLAR_CLI, "subscribe", "--pub", endpoints.publish, "--replay", endpoints.replay, "--tenant",
                    "acme", "--from", "1", "--json"},
                   dir.sub("sub.out"), dir.sub("sub.err"));
  REQUIRE(eventually([&] { return read_lines(dir.sub("sub.out")).size() == 3; }));
  create("live globex", "globex");
  create("live acme", "acme");
  REQUIRE(eventually([&] { return read_lines(dir.sub("sub.out")).size() == 4; }));
  std::this_thread::sleep_for(200ms);  // nothing else is printed
  sub.signal(SIGTERM);
  REQUIRE(sub.wait(5s) == 0);
  auto logged = read_lines(dir.sub("log.out"));
  auto streamed = read_lines(dir.sub("sub.out"));
  REQUIRE(logged.size() == 3);
  REQUIRE(streamed.size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    json expected = json::parse(logged[i]);
    expected.erase("hash");
    CHECK(json::parse(streamed[i]) == expected);
  }
  json live = json::parse(streamed[3]);
  CHECK(live["position"] == 11);
  CHECK(live["changes"]["name"] == "live acme");
  CHECK(read_file(dir.sub("sub.err")).empty());
}
