// bench_create: single-record creates through the engine, one durable transaction each,
// against the floor under them: raw LMDB puts of the very same event bytes, one
// transaction each, with the same sync setting, measured in the same run.
//
//   bench_create [DURABLE_COUNT [NO_SYNC_COUNT]]     (defaults 2000 and 20000)
//
// Round 1 commits with fsync on both sides (Durability::sync vs LMDB's default), so it
// mostly measures the disk; round 2 commits without (Durability::no_sync vs MDB_NOSYNC),
// so its ratio is the engine's overhead without the flush: the changeset, encoding, the
// hash chain, and the extra pages its indexes and state projection dirty.
//
// A third side, "same tables", does with raw LMDB the puts the engine's create does, one
// transaction each: the event's entry (chain hash, then bytes), the resource stream's and
// the record history's index entries, and the record's state (the very bytes the engine
// stored). The engine's ratio to it is what the engine costs beyond the store layout; its
// own ratio to the single put is what that layout costs. The sides take turns in blocks
// of 100 creates. Stores live in temporary directories (under $TMPDIR, else /tmp),
// removed at exit.

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/model/key.hpp>

#include <lmdb.h>

#include <algorithm>
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

struct Round {
  const char* name;
  ashlar::Durability durability;
  std::size_t count;
  double engine_seconds = 0;
  double raw_seconds = 0;
  double tables_seconds = 0;  // raw LMDB, the engine's tables
  double engine_cpu = 0;  // CPU seconds: on a shared machine the steadier comparison
  double raw_cpu = 0;
  double tables_cpu = 0;
  std::size_t event_bytes = 0;  // total over the round's events
};

// The puts of one create into the tables the engine writes (eventlog/FORMAT.md, format 2),
// one transaction each, with raw LMDB.
class RawTables {
 public:
  struct Create {
    std::string position, entry, stream_key, history_key, record_key, record;
  };

  RawTables(const std::string& path, bool no_sync, std::size_t map_size)
      : env_(ashlar::bench::open_raw_env(path, no_sync, map_size,
                                         {{"events", &events_}, {"by_resource", &by_resource_},
                                          {"by_record", &by_record_}, {"rec/User", &records_}})) {}
  RawTables(const RawTables&) = delete;
  RawTables& operator=(const RawTables&) = delete;
  ~RawTables() { mdb_env_close(env_); }

  void create(const Create& c) {
    MDB_txn* txn = nullptr;
    ashlar::bench::check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    put(txn, events_, c.position, c.entry, MDB_APPEND);
    put(txn, by_resource_, c.stream_key, c.position, MDB_NOOVERWRITE);
    put(txn, by_record_, c.history_key, c.position, MDB_NOOVERWRITE);
    put(txn, records_, c.record_key, c.record, 0);
    ashlar::bench::check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }

 private:
  static void put(MDB_txn* txn, MDB_dbi dbi, const std::string& key, const std::string& value, unsigned flags) {
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
    int rc = mdb_put(txn, dbi, &k, &v, flags);
    if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
    ashlar::bench::check_mdb(rc, "mdb_put");
  }

  MDB_dbi events_ = 0, by_resource_ = 0, by_record_ = 0, records_ = 0;  // before env_, which opens them
  MDB_env* env_ = nullptr;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs the round in blocks, engine then baseline, so both sides see the same disk weather
// (on a shared VM the cost of an fsync drifts over seconds).
void run(Round& round) {
  constexpr std::size_t kBlock = 100;
  TempDir engine_dir, raw_dir, tables_dir;
  auto engine = ashlar::Engine::open(engine_dir.path(), ashlar::bench::user_domain(), {.durability = round.durability}).value();
  const ashlar::Log& log = engine.log();
  const ashlar::CallOptions call{.actor = "bench"};
  // Big enough never to fill: the baseline should not pay for growing the map.
  ashlar::bench::RawEventLog raw(raw_dir.path(), round.durability == ashlar::Durability::no_sync, std::size_t{1} << 30);
  RawTables tables(tables_dir.path(), round.durability == ashlar::Durability::no_sync, std::size_t{1} << 30);
  // The state projection's table, as the engine opened it.
  ashlar::Db records = engine.log().read().value().open_database("rec/User", false, false).value().value();

  std::vector<ashlar::Fields> inputs;
  std::vector<std::string> bytes;
  std::vector<RawTables::Create> creates;
  for (std::size_t done = 0; done < round.count; done += inputs.size()) {
    inputs.clear();
    for (std::size_t i = done; i < std::min(done + kBlock, round.count); ++i) {
      std::string name = "user-" + std::to_string(i);
      inputs.push_back({{"name", name}, {"email", name + "@example.com"}});
    }

    auto start = Clock::now();
    double cpu = ashlar::bench::cpu_seconds();
    for (const auto& fields : inputs) {
      auto created = engine.create("User", fields, call);
      if (!created) throw std::runtime_error(created.error().describe());
    }
    round.engine_cpu += ashlar::bench::cpu_seconds() - cpu;
    round.engine_seconds += seconds_since(start);

    // Exactly the bytes the engine appended, and the state it stored, re-read outside the
    // timing.
    bytes.clear();
    creates.clear();
    auto txn = log.read().value();
    log.scan(txn, done + 1, [&](const ashlar::StoredEvent& e) {
         bytes.push_back(e.bytes);
         round.event_bytes += e.bytes.size();
         std::string position = ashlar::be64(e.event.position);
         std::string key = ashlar::encode_key(std::vector<ashlar::Value>{e.event.key.at(0).second});
         std::string entry(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
         auto record = txn.get(records, key).value();
         if (!record) throw std::runtime_error("the state projection does not hold a record just created");
         creates.push_back({position, entry + e.bytes, std::string("User") + '\0' + ashlar::be64(e.event.sequence),
                            std::string("User") + '\0' + key + ashlar::be64(e.event.version), key,
                            std::string(*record)});
         return true;
       }).value();
    if (bytes.size() != inputs.size()) throw std::runtime_error("the log does not hold the events just created");

    start = Clock::now();
    cpu = ashlar::bench::cpu_seconds();
    for (std::size_t i = 0; i < bytes.size(); ++i) raw.append(done + i + 1, std::span(&bytes[i], 1));  // one put, one commit
    round.raw_cpu += ashlar::bench::cpu_seconds() - cpu;
    round.raw_seconds += seconds_since(start);

    start = Clock::now();
    cpu = ashlar::bench::cpu_seconds();
    for (const auto& c : creates) tables.create(c);
    round.tables_cpu += ashlar::bench::cpu_seconds() - cpu;
    round.tables_seconds += seconds_since(start);
  }
}

void print(const std::vector<Round>& rounds) {
  std::printf("%-8s %-21s %7s %12s %12s %14s %10s %10s %10s\n", "round", "sync (engine / raw)", "creates",
              "engine ops/s", "raw ops/s", "engine/raw time", "wall", "cpu", "event size");
  for (const auto& r : rounds) {
    const char* sync = r.durability == ashlar::Durability::sync ? "sync / default" : "no_sync / MDB_NOSYNC";
    double n = static_cast<double>(r.count);
    std::printf("%-8s %-21s %7zu %12.0f %12.0f %14.2fx %9.2fx %9.2fx %8zu B\n", r.name, sync, r.count,
                n / r.engine_seconds, n / r.raw_seconds, r.engine_seconds / r.raw_seconds,
                r.raw_seconds / r.engine_seconds, r.raw_cpu / r.engine_cpu, r.event_bytes / r.count);
  }
  std::printf("wall, cpu: the engine's rate as a fraction of raw LMDB's, in elapsed and in CPU seconds\n\n");
  std::printf("%-8s %16s %14s %14s %22s\n", "round", "same tables op/s", "engine / them", "(cpu)",
              "them / the single put");
  for (const auto& r : rounds) {
    double n = static_cast<double>(r.count);
    std::printf("%-8s %16.0f %13.2fx %13.2fx %21.2fx\n", r.name, n / r.tables_seconds,
                r.tables_seconds / r.engine_seconds, r.tables_cpu / r.engine_cpu, r.raw_seconds / r.tables_seconds);
  }
  std::printf("same tables: raw LMDB doing each create's puts into the engine's tables (event, stream and history\n"
              "entries, the record's state), one transaction each: the engine's ratio to it is its cost beyond\n"
              "the store layout, and its ratio to the single put is what the layout costs\n");
}


}  // namespace

int main(int argc, char** argv) {
  std::vector<Round> rounds{{"durable", ashlar::Durability::sync, 2000},
                            {"no_sync", ashlar::Durability::no_sync, 20000}};
  if (argc > 3 || (argc > 1 && !parse_count(argv[1], rounds[0].count)) ||
      (argc > 2 && !parse_count(argv[2], rounds[1].count))) {
    std::fprintf(stderr,
                 "usage: %s [DURABLE_COUNT [NO_SYNC_COUNT]]\n"
                 "  single-record creates through the engine vs raw LMDB puts of the same bytes\n"
                 "  (defaults: 2000 durable, 20000 no_sync)\n",
                 argv[0]);
    return 2;
  }
  try {
    for (auto& round : rounds) run(round);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_create: %s\n", e.what());
    return 1;
  }
  std::printf("single-record creates, one write transaction each, stores in %s\n",
              fs::temp_directory_path().c_str());
  print(rounds);
  return 0;
}
