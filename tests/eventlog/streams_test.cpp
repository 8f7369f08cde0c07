// A resource's stream and a record's history, read through the log's indexes.
#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/key.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

Event event_for(const std::string& resource, int id, std::uint64_t version, int score) {
  Event e;
  e.domain = "d";
  e.resource = resource;
  e.action = version == 1 ? "create" : "update";
  e.type = version == 1 ? ActionType::create : ActionType::update;
  e.version = version;
  e.key = {{"id", id}};
  e.changes = {{"score", score}};
  return e;
}

// Positions 1..9: A1 B1 A2 A1' B1' A3 A1'' B2 A2'  (' marks a later version)
std::unique_ptr<Log> interleaved_log(const std::string& dir) {
  auto log = Log::open(dir).value();
  struct Step {
    const char* resource;
    int id;
    std::uint64_t version;
  };
  const Step steps[] = {{"A", 1, 1}, {"B", 1, 1}, {"A", 2, 1}, {"A", 1, 2}, {"B", 1, 2},
                        {"A", 3, 1}, {"A", 1, 3}, {"B", 2, 1}, {"A", 2, 2}};
  int score = 0;
  for (const auto& s : steps)
    log->write([&](Txn& txn) -> Result<void> {
         auto stored = log->append(txn, event_for(s.resource, s.id, s.version, ++score));
         if (!stored) return fail(stored.error());
         return {};
       }).value();
  return log;
}

std::vector<std::uint64_t> positions_of_resource(const Log& log, const std::string& resource, std::uint64_t from) {
  std::vector<std::uint64_t> out;
  auto txn = log.read().value();
  log.scan_resource(txn, resource, from, [&](const StoredEvent& e) {
       CHECK(e.event.resource == resource);
       CHECK(e.event.sequence == std::max<std::uint64_t>(from, 1) + out.size());
       out.push_back(e.event.position);
       return true;
     }).value();
  return out;
}

}  // namespace

TEST_CASE("scan_resource visits one resource's stream in sequence order, with bytes and hashes") {
  TempDir dir;
  auto log = interleaved_log(dir.path());
  CHECK(positions_of_resource(*log, "A", 1) == std::vector<std::uint64_t>{1, 3, 4, 6, 7, 9});
  CHECK(positions_of_resource(*log, "A", 4) == std::vector<std::uint64_t>{6, 7, 9});
  CHECK(positions_of_resource(*log, "B", 0) == std::vector<std::uint64_t>{2, 5, 8});
  CHECK(positions_of_resource(*log, "B", 4).empty());
  CHECK(positions_of_resource(*log, "C", 1).empty());

  auto txn = log->read().value();
  auto direct = log->event_at(txn, 5).value().value();
  int seen = 0;
  log->scan_resource(txn, "B", 2, [&](const StoredEvent& e) {
       CHECK(e.bytes == direct.bytes);
       CHECK(e.hash == direct.hash);
       return ++seen < 1;  // stops when fn says so
     }).value();
  CHECK(seen == 1);
}

TEST_CASE("first_sequence_after finds where a resource's stream resumes after a global position") {
  TempDir dir;
  auto log = interleaved_log(dir.path());
  auto txn = log->read().value();
  // A's positions: 1 3 4 6 7 9 (sequences 1..6)
  const std::pair<std::uint64_t, std::uint64_t> cases[] = {{0, 1}, {1, 2}, {2, 2}, {3, 3}, {5, 4},
                                                           {6, 5}, {8, 6}, {9, 7}, {100, 7}};
  for (auto [position, sequence] : cases) {
    INFO("after position " << position);
    CHECK(log->first_sequence_after(txn, "A", position).value() == sequence);
  }
  CHECK(log->first_sequence_after(txn, "B", 4).value() == 2);
  CHECK(log->first_sequence_after(txn, "C", 0).value() == 1);
}

TEST_CASE("scan_record_back walks one record's history newest first") {
  TempDir dir;
  auto log = interleaved_log(dir.path());
  auto txn = log->read().value();
  auto history = [&](int id, std::uint64_t from) {
    std::vector<std::uint64_t> versions;
    log->scan_record_back(txn, "A", encode_key(std::vector<Value>{Value(id)}), from, [&](const StoredEvent& e) {
         CHECK(e.event.key == Fields{{"id", id}});
         versions.push_back(e.event.version);
         return true;
       }).value();
    return versions;
  };
  CHECK(history(1, 3) == std::vector<std::uint64_t>{3, 2, 1});
  CHECK(history(1, 2) == std::vector<std::uint64_t>{2, 1});
  CHECK(history(1, 1000) == std::vector<std::uint64_t>{3, 2, 1});
  CHECK(history(2, 5) == std::vector<std::uint64_t>{2, 1});
  CHECK(history(3, 0).empty());
  CHECK(history(4, 3).empty());
}
