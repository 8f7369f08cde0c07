// bench_concurrency: durable creates from 1, 8 and 64 callers on one engine (group
// commit), against raw LMDB committing the same event bytes, measured in the same run:
//   - "raw 1/txn": the same callers, each put its own write transaction and fsync;
//   - "raw grouped": one thread committing the same puts in transactions of the size the
//     engine's groups had on average (the floor for that much batching).
// A last round runs the 64 callers again on the resource keyed by uuid_v7_primary_key:
// time-ordered keys append to the record and history indexes, where random ones dirty a
// page of each per action, and a group's commit writes far fewer pages.
//
//   bench_concurrency [CREATES_PER_ROUND]     (default 4000)
//
// The engine's group sizes are counted by a notifier (one call per commit).

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using ashlar::bench::check_mdb;
using ashlar::bench::TempDir;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Commits final : ashlar::Notifier {
  std::atomic<std::size_t> calls{0};
  void notify(std::span<const ashlar::StoredEvent>) override { ++calls; }
};

struct Round {
  int callers;
  std::size_t count;
  bool time_ordered_keys = false;  // the resource keyed by uuid_v7_primary_key
  double engine_rate = 0, raw_single_rate = 0, raw_grouped_rate = 0;
  double group_size = 0;
};

// Raw LMDB: an environment with one named database, durable commits.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    check_mdb(mdb_env_create(&env_), "mdb_env_create");
    check_mdb(mdb_env_set_maxdbs(env_, 1), "mdb_env_set_maxdbs");
    check_mdb(mdb_env_set_mapsize(env_, std::size_t{1} << 30), "mdb_env_set_mapsize");
    check_mdb(mdb_env_open(env_, path.c_str(), MDB_NOTLS, 0644), "mdb_env_open");
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    check_mdb(mdb_dbi_open(txn, "events", MDB_CREATE, &dbi_), "mdb_dbi_open");
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  ~Raw() { mdb_env_close(env_); }
  // One transaction: the next positions, one put each.
  void commit(const std::string* bytes, std::size_t n) {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t position = ++next_;  // under LMDB's writer lock
      unsigned char key_bytes[8];
      for (int b = 0; b < 8; ++b) key_bytes[b] = static_cast<unsigned char>(position >> (56 - 8 * b));
      MDB_val key{sizeof key_bytes, key_bytes};
      MDB_val value{bytes[i].size(), const_cast<char*>(bytes[i].data())};
      int rc = mdb_put(txn, dbi_, &key, &value, MDB_APPEND);
      if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
      check_mdb(rc, "mdb_put");
    }
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::uint64_t next_ = 0;
};

// Runs fn(thread, i) for count items spread over `threads` threads; the seconds it took.
template <typename F>
double in_threads(int threads, std::size_t count, F fn) {
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = t; i < count; i += threads) fn(i);
    });
  for (auto& th : pool) th.join();
  return seconds_since(start);
}

void run(Round& round) {
  TempDir engine_dir, single_dir, grouped_dir;
  auto commits = std::make_shared<Commits>();
  auto engine = ashlar::Engine::open(engine_dir.path(), ashlar::bench::user_domain(round.time_ordered_keys),
                                     {.notifiers = {commits}})
                    .value();
  std::vector<ashlar::Fields> inputs;
  for (std::size_t i = 0; i < round.count; ++i) {
    std::string name = "user-" + std::to_string(i);
    inputs.push_back({{"name", name}, {"email", name + "@example.com"}});
  }
  std::atomic<bool> failed{false};
  double engine_seconds = in_threads(round.callers, round.count, [&](std::size_t i) {
    if (!engine.create("User", inputs[i])) failed = true;
  });
  if (failed) throw std::runtime_error("a create failed");
  round.engine_rate = round.count / engine_seconds;
  round.group_size = static_cast<double>(round.count) / commits->calls;

  std::vector<std::string> bytes;
  const ashlar::Log& log = engine.log();
  log.scan(log.read().value(), 1, [&](const ashlar::StoredEvent& e) {
       bytes.push_back(e.bytes);
       return true;
     }).value();

  Raw single(single_dir.path());
  round.raw_single_rate = round.count / in_threads(round.callers, round.count, [&](std::size_t i) {
                            single.commit(&bytes[i], 1);
                          });

  Raw grouped(grouped_dir.path());
  std::size_t group = std::max<std::size_t>(1, static_cast<std::size_t>(round.group_size + 0.5));
  auto start = Clock::now();
  for (std::size_t i = 0; i < bytes.size(); i += group) grouped.commit(&bytes[i], std::min(group, bytes.size() - i));
  round.raw_grouped_rate = round.count / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 4000;
  if (argc > 2 || (argc > 1 && !ashlar::bench::parse_count(argv[1], count))) {
    std::fprintf(stderr, "usage: %s [CREATES_PER_ROUND]\n  durable creates from 1, 8 and 64 callers vs raw LMDB\n",
                 argv[0]);
    return 2;
  }
  std::vector<Round> rounds{{1, count / 4}, {8, count}, {64, count}, {64, count, true}};
  try {
    for (auto& r : rounds) run(r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_concurrency: %s\n", e.what());
    return 1;
  }
  std::printf("durable creates (fsync per commit) from concurrent callers; raw LMDB puts the same event bytes\n");
  std::printf("%10s %7s %12s %10s %13s %13s %11s %13s\n", "callers", "creates", "engine ops/s", "avg group",
              "raw 1/txn", "raw grouped", "vs 1/txn", "vs grouped");
  for (const auto& r : rounds)
    std::printf("%7d%3s %7zu %12.0f %10.1f %13.0f %13.0f %10.2fx %12.2fx\n", r.callers, r.time_ordered_keys ? " v7" : "",
                r.count, r.engine_rate, r.group_size, r.raw_single_rate, r.raw_grouped_rate,
                r.engine_rate / r.raw_single_rate, r.engine_rate / r.raw_grouped_rate);
  std::printf("64 callers vs the engine's own 1-caller rate: %.1fx (v7 keys: %.1fx)\n",
              rounds[2].engine_rate / rounds[0].engine_rate, rounds[3].engine_rate / rounds[0].engine_rate);
  std::printf("v7: the resource keyed by uuid_v7_primary_key, so its records and histories are appended\n");
  return 0;
}
