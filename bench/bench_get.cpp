// bench_get: gets by primary key through the engine, one thread, against raw LMDB: an
// mdb_get of a value of the same size under the same 16-byte key, in a read transaction
// renewed for every get (what a snapshot per call costs at the floor), in the same run.
//
//   bench_get [RECORDS [GETS]]     (defaults 100000 and 1000000)

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>

#include <lmdb.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ashlar::bench::parse_count;

using Clock = std::chrono::steady_clock;
using ashlar::bench::check_mdb;
using ashlar::bench::TempDir;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }


}  // namespace

int main(int argc, char** argv) {
  std::size_t records = 100000, gets = 1000000;
  if (argc > 3 || (argc > 1 && !parse_count(argv[1], records)) || (argc > 2 && !parse_count(argv[2], gets))) {
    std::fprintf(stderr, "usage: %s [RECORDS [GETS]]\n  gets by primary key vs raw mdb_get (defaults 100000, 1000000)\n",
                 argv[0]);
    return 2;
  }
  try {
    TempDir engine_dir, raw_dir;
    auto engine = ashlar::Engine::open(engine_dir.path(), ashlar::bench::user_domain(),
                                       {.durability = ashlar::Durability::no_sync})
                      .value();
    std::vector<ashlar::Fields> inputs;
    for (std::size_t i = 0; i < records; ++i) {
      std::string name = "user-" + std::to_string(i);
      inputs.push_back({{"name", name}, {"email", name + "@example.com"}});
    }
    auto created = engine.bulk_create("User", inputs, {.return_records = true}).value();
    std::vector<ashlar::Value> ids;
    for (const auto& r : created.records) ids.push_back(r.id());
    if (ids.size() != records) throw std::runtime_error("bulk_create did not create every record");

    // The raw side: the same keys (16-byte uuids), values as large as the engine's events.
    std::size_t value_size = 0;
    {
      std::size_t total = 0;
      const ashlar::Log& log = engine.log();
      log.scan(log.read().value(), 1, [&](const ashlar::StoredEvent& e) {
           total += e.bytes.size();
           return true;
         }).value();
      value_size = total / records;
    }
    MDB_env* env = nullptr;
    MDB_dbi dbi = 0;
    check_mdb(mdb_env_create(&env), "mdb_env_create");
    check_mdb(mdb_env_set_maxdbs(env, 1), "mdb_env_set_maxdbs");
    check_mdb(mdb_env_set_mapsize(env, std::size_t{1} << 30), "mdb_env_set_mapsize");
    check_mdb(mdb_env_open(env, raw_dir.path().c_str(), MDB_NOTLS | MDB_NOSYNC, 0644), "mdb_env_open");
    std::vector<std::string> keys;
    {
      MDB_txn* txn = nullptr;
      check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
      check_mdb(mdb_dbi_open(txn, "rec", MDB_CREATE, &dbi), "mdb_dbi_open");
      std::string value(value_size, 'v');
      for (const auto& id : ids) {
        std::string key = id.str();  // the same entropy; the engine keys by the uuid's bytes
        key.resize(16);
        keys.push_back(key);
        MDB_val k{key.size(), key.data()};
        MDB_val v{value.size(), value.data()};
        check_mdb(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
      }
      check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
    }

    std::mt19937_64 rng(7);
    std::vector<std::size_t> order(gets);
    for (auto& i : order) i = rng() % records;

    auto start = Clock::now();
    double cpu = ashlar::bench::cpu_seconds();
    for (std::size_t i : order) {
      auto got = engine.get("User", ids[i]);
      if (!got) throw std::runtime_error(got.error().describe());
    }
    double engine_cpu = ashlar::bench::cpu_seconds() - cpu;
    double engine_seconds = seconds_since(start);

    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    mdb_txn_reset(txn);
    std::size_t sum = 0;
    start = Clock::now();
    cpu = ashlar::bench::cpu_seconds();
    for (std::size_t i : order) {
      check_mdb(mdb_txn_renew(txn), "mdb_txn_renew");
      MDB_val k{keys[i].size(), keys[i].data()}, v;
      check_mdb(mdb_get(txn, dbi, &k, &v), "mdb_get");
      std::string copy(static_cast<const char*>(v.mv_data), v.mv_size);  // the engine copies too
      sum += copy.size();
      mdb_txn_reset(txn);
    }
    double raw_cpu = ashlar::bench::cpu_seconds() - cpu;
    double raw_seconds = seconds_since(start);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    if (sum == 0) throw std::runtime_error("raw gets read nothing");

    std::printf("gets by primary key, 1 thread, %zu records, %zu gets\n", records, gets);
    std::printf("%14s %14s %10s %10s %12s\n", "engine gets/s", "raw mdb_get/s", "wall", "cpu", "value size");
    std::printf("%14.0f %14.0f %9.2fx %9.2fx %10zu B\n", gets / engine_seconds, gets / raw_seconds,
                raw_seconds / engine_seconds, raw_cpu / engine_cpu, value_size);
    std::printf("wall, cpu: the engine's rate as a fraction of raw mdb_get's, in elapsed and in CPU seconds\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_get: %s\n", e.what());
    return 1;
  }
  return 0;
}
