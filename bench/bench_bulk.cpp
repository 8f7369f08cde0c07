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

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr std::size_t kMapSize = std::size_t{1} << 30;

// A fresh directory, removed with everything in it when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ashlar-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void check_mdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mdb_strerror(rc));
}

// The baseline: an environment opened as the engine opens its own (MDB_NOTLS, a named
// database for the events), and batches of appends, one transaction each.
class RawEnv {
 public:
  RawEnv(const std::string& path, bool no_sync) {
    check_mdb(mdb_env_create(&env_), "mdb_env_create");
    check_mdb(mdb_env_set_maxdbs(env_, 1), "mdb_env_set_maxdbs");
    check_mdb(mdb_env_set_mapsize(env_, kMapSize), "mdb_env_set_mapsize");
    check_mdb(mdb_env_open(env_, path.c_str(), MDB_NOTLS | (no_sync ? MDB_NOSYNC : 0), 0644), "mdb_env_open");
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    int rc = mdb_dbi_open(txn, "events", MDB_CREATE, &events_);
    if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
    check_mdb(rc, "mdb_dbi_open");
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  RawEnv(const RawEnv&) = delete;
  RawEnv& operator=(const RawEnv&) = delete;
  ~RawEnv() { mdb_env_close(env_); }

  // One write transaction: bytes[from..to) under positions from+1.., big-endian.
  void append_batch(const std::vector<std::string>& bytes, std::size_t from, std::size_t to) {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = from; i < to; ++i) {
      std::uint64_t position = i + 1;
      unsigned char key_bytes[8];
      for (int b = 0; b < 8; ++b) key_bytes[b] = static_cast<unsigned char>(position >> (56 - 8 * b));
      MDB_val key{sizeof key_bytes, key_bytes};
      MDB_val value{bytes[i].size(), const_cast<char*>(bytes[i].data())};
      int rc = mdb_put(txn, events_, &key, &value, MDB_APPEND);
      if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
      check_mdb(rc, "mdb_put");
    }
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi events_ = 0;
};

ashlar::Domain bench_domain() {
  using namespace ashlar::dsl;
  return domain("bench")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("email", type::string)
                    .create_timestamp("inserted_at")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

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
    auto engine = ashlar::Engine::open(engine_dir.path(), bench_domain(),
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
  RawEnv raw(raw_dir.path(), round.durability == ashlar::Durability::no_sync);
  auto start = Clock::now();
  for (std::size_t from = 0; from < count; from += batch_size) raw.append_batch(bytes, from, std::min(count, from + batch_size));
  round.raw_seconds = seconds_since(start);
}

bool parse_count(const char* text, std::size_t& out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || text[0] == '-') return false;
  out = static_cast<std::size_t>(v);
  return true;
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
