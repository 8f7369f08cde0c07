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
using Clock = std::chrono::steady_clock;
using ashlar::bench::TempDir;
constexpr std::size_t kMapSize = std::size_t{1} << 30;

struct Round {
  const char* name;
  ashlar::Durability durability;
  double engine_seconds = 0;
  double raw_seconds = 0;
  std::size_t event_bytes = 0;  // total over the round's events
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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
    auto engine = ashlar::Engine::open(engine_dir.path(), ashlar::bench::user_domain(),
                                       {.durability = round.durability, .initial_map_size = kMapSize})
                      .value();
    auto start = Clock::now();
    auto result = engine.bulk_create("User", inputs, {.actor = "bench", .batch_size = batch_size});
    round.engine_seconds = seconds_since(start);
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
  auto start = Clock::now();
  for (std::size_t from = 0; from < count; from += batch_size)
    raw.append(from + 1, std::span(bytes).subspan(from, std::min(count, from + batch_size) - from));
  round.raw_seconds = seconds_since(start);
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
  std::vector<Round> rounds{{"durable", ashlar::Durability::sync}, {"no_sync", ashlar::Durability::no_sync}};
  try {
    for (auto& round : rounds) run(round, count, batch_size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bulk: %s\n", e.what());
    return 1;
  }
  std::printf("bulk create of %zu records, batches of %zu (one write transaction each), stores in %s\n", count,
              batch_size, fs::temp_directory_path().c_str());
  std::printf("%-8s %-21s %10s %10s %12s %12s %15s %10s\n", "round", "sync (engine / raw)", "engine s", "raw s",
              "engine rec/s", "raw rec/s", "engine/raw time", "event size");
  for (const auto& r : rounds) {
    const char* sync = r.durability == ashlar::Durability::sync ? "sync / default" : "no_sync / MDB_NOSYNC";
    double n = static_cast<double>(count);
    std::printf("%-8s %-21s %10.3f %10.3f %12.0f %12.0f %14.2fx %8zu B\n", r.name, sync, r.engine_seconds,
                r.raw_seconds, n / r.engine_seconds, n / r.raw_seconds, r.engine_seconds / r.raw_seconds,
                r.event_bytes / count);
  }
  return 0;
}
