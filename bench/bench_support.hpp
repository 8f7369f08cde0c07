#pragma once
// What every benchmark needs: a scratch directory and LMDB's return codes as exceptions
// (a benchmark stops at its first failure).

#include <ashlar/ashlar.hpp>

#include <lmdb.h>

#include <time.h>

#include <chrono>
#include <initializer_list>
#include <cstdlib>
#include <span>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace ashlar::bench {

// CPU seconds this process used: on a shared machine wall time also counts the waits
// for a core, so benchmarks print both, each with its ratio.
inline double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Timing {
  double wall = 0, cpu = 0;
};

// How long f took, in wall and in CPU seconds.
template <typename F>
Timing timed(F&& f) {
  auto wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(), cpu_seconds() - cpu};
}

// A fresh directory under $TMPDIR (else /tmp), removed with everything in it when this
// goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ashlar-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary directory");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A positive count from the command line; false for anything else ("0", "-3", "12x").
inline bool parse_count(const char* text, std::size_t& out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || text[0] == '-') return false;
  out = static_cast<std::size_t>(v);
  return true;
}

inline void check_mdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mdb_strerror(rc));
}

// An environment opened as the engine opens its own (MDB_NOTLS), with each named database
// of `dbis` created in it and its handle stored where the pair points.
inline MDB_env* open_raw_env(const std::string& path, bool no_sync, std::size_t map_size,
                             std::initializer_list<std::pair<const char*, MDB_dbi*>> dbis) {
  MDB_env* env = nullptr;
  check_mdb(mdb_env_create(&env), "mdb_env_create");
  check_mdb(mdb_env_set_maxdbs(env, static_cast<MDB_dbi>(dbis.size())), "mdb_env_set_maxdbs");
  check_mdb(mdb_env_set_mapsize(env, map_size), "mdb_env_set_mapsize");
  check_mdb(mdb_env_open(env, path.c_str(), MDB_NOTLS | (no_sync ? MDB_NOSYNC : 0), 0644), "mdb_env_open");
  MDB_txn* txn = nullptr;
  check_mdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
  for (auto [name, dbi] : dbis) {
    int rc = mdb_dbi_open(txn, name, MDB_CREATE, dbi);
    if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
    check_mdb(rc, "mdb_dbi_open");
  }
  check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");
  return env;
}

// The raw baseline's log: an environment opened as the engine opens its own (MDB_NOTLS,
// a named database for the events), minus everything the engine adds around an append.
class RawEventLog {
 public:
  RawEventLog(const std::string& path, bool no_sync, std::size_t map_size)
      : env_(open_raw_env(path, no_sync, map_size, {{"events", &events_}})) {}
  RawEventLog(const RawEventLog&) = delete;
  RawEventLog& operator=(const RawEventLog&) = delete;
  ~RawEventLog() { mdb_env_close(env_); }

  // One write transaction: bytes under positions first, first + 1, ... (big-endian keys,
  // MDB_APPEND), committed with the environment's sync setting.
  void append(std::uint64_t first, std::span<const std::string> bytes) {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      std::uint64_t position = first + i;
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
  MDB_dbi events_ = 0;  // before env_, whose initializer opens it
  MDB_env* env_ = nullptr;
};

// The domain the write benchmarks share: users with a name, an email and a timestamp;
// their keys random (v4) uuids, or time-ordered (v7) ones.
inline Domain user_domain(bool time_ordered_keys = false) {
  using namespace ashlar::dsl;
  auto user = resource("User");
  if (time_ordered_keys)
    user.uuid_v7_primary_key("id");
  else
    user.uuid_primary_key("id");
  return domain("bench")
      .resource(user
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("email", type::string)
                    .create_timestamp("inserted_at")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

}  // namespace ashlar::bench
