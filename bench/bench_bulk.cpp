// bench_bulk: a bulk create of many records through the engine (Engine::bulk_create, one
// write transaction per batch) against the floor under it: raw LMDB puts of the very same
// event bytes, batched the same way (one transaction, one commit per batch), with the same
// sync setting, measured in the same run.
//
//   bench_bulk [COUNT [BATCH_SIZE]]     (defaults 100000 and 1000)
//
// Round 1 commits with fsync on both sides (Durability::sync vs LMDB's default); round 2
// without (Durability::no_sync vs MDB_NOSYNC), so its ratio is the engine's CPU cost per
// record: building the changeset, a nested transaction per record (so one bad record
// rolls back alone), encoding, the hash chain, the indexes and the state projection.
// Rounds 3 and 4 repeat them with the resource keyed by time-ordered (v7) uuids: random
// (v4) keys scatter each batch's records over the whole state and index trees, so a
// commit writes a page per record; adjacent keys share pages.
// Both sides start with a 1 GiB map, so neither pays for growing it. Each side writes a
// store of its own in a temporary directory (under $TMPDIR, else /tmp), removed at exit.

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>

#include <lmdb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ashlar::bench::parse_count;

namespace fs = std::filesystem;
using ashlar::bench::TempDir;
using ashlar::bench::Timing;
using ashlar::bench::timed;
constexpr std::size_t kMapSize = std::size_t{1} << 30;

struct Round {
  const char* name;
  ashlar::Durability durability;
  bool time_ordered_keys;  // uuid_v7_primary_key rather than uuid_primary_key
  Timing engine{}, raw{};
  std::size_t event_bytes = 0;  // total over the round's events
};

void run(Round& round, std::size_t count, std::size_t batch_size) {
  TempDir engine_dir, raw_dir;
  std::vector<ashlar::Fields> inputs;
  inputs.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "user-" + std::to_string(i);
    inputs.push_back({{"name", name}, {"email", name + "@example.com"}});
  }
  std::vector<std::string> bytes;
  {
    auto engine = ashlar::Engine::open(engine_dir.path(), ashlar::bench::user_domain(round.time_ordered_keys),
                                       {.durability = round.durability, .initial_map_size = kMapSize})
                      .value();
    ashlar::Result<ashlar::BulkResult> result = ashlar::BulkResult{};
    round.engine = timed([&] {
      result = engine.bulk_create("User", inputs, {.actor = "bench", .batch_size = batch_size});
    });
    if (!result) throw std::runtime_error(result.error().describe());
    if (result->count != count) throw std::runtime_error(result->errors.at(0).describe());
    // Exactly the bytes the engine appended, read back outside the timing.
    const ashlar::Log& log = engine.log();
    bytes.reserve(count);
    log.scan(log.read().value(), 1, [&](const ashlar::StoredEvent& e) {
         bytes.push_back(e.bytes);
         round.event_bytes += e.bytes.size();
         return true;
       }).value();
    if (bytes.size() != count) throw std::runtime_error("the log does not hold the events just created");
  }
  ashlar::bench::RawEventLog raw(raw_dir.path(), round.durability == ashlar::Durability::no_sync, kMapSize);
  round.raw = timed([&] {
    for (std::size_t from = 0; from < count; from += batch_size)
      raw.append(from + 1, std::span(bytes).subspan(from, std::min(count, from + batch_size) - from));
  });
}


}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 100000, batch_size = 1000;
  if (argc > 3 || (argc > 1 && !parse_count(argv[1], count)) || (argc > 2 && !parse_count(argv[2], batch_size))) {
    std::fprintf(stderr,
                 "usage: %s [COUNT [BATCH_SIZE]]\n"
                 "  a bulk create through the engine vs raw LMDB batched puts of the same bytes\n"
                 "  (defaults: 100000 records, batches of 1000)\n",
                 argv[0]);
    return 2;
  }
  using ashlar::Durability;
  std::vector<Round> rounds{{.name = "durable", .durability = Durability::sync, .time_ordered_keys = false},
                            {.name = "no_sync", .durability = Durability::no_sync, .time_ordered_keys = false},
                            {.name = "durable v7", .durability = Durability::sync, .time_ordered_keys = true},
                            {.name = "no_sync v7", .durability = Durability::no_sync, .time_ordered_keys = true}};
  try {
    for (auto& round : rounds) run(round, count, batch_size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bulk: %s\n", e.what());
    return 1;
  }
  std::printf("bulk create of %zu records, batches of %zu (one write transaction each), stores in %s\n", count,
              batch_size, fs::temp_directory_path().c_str());
  std::printf("%-10s %-21s %10s %10s %12s %12s %9s %9s %10s\n", "round", "sync (engine / raw)", "engine s", "raw s",
              "engine rec/s", "raw rec/s", "wall", "cpu", "event size");
  for (const auto& r : rounds) {
    const char* sync = r.durability == ashlar::Durability::sync ? "sync / default" : "no_sync / MDB_NOSYNC";
    double n = static_cast<double>(count);
    std::printf("%-10s %-21s %10.3f %10.3f %12.0f %12.0f %8.3fx %8.3fx %8zu B\n", r.name, sync, r.engine.wall,
                r.raw.wall, n / r.engine.wall, n / r.raw.wall, r.raw.wall / r.engine.wall, r.raw.cpu / r.engine.cpu,
                r.event_bytes / count);
  }
  std::printf("wall, cpu: the engine's rate as a fraction of raw LMDB's, in elapsed and in CPU seconds\n"
              "v7: the resource keyed by uuid_v7_primary_key (time-ordered), so new keys are adjacent in the indexes\n");
  return 0;
}
