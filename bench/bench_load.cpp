// bench_load: loading a has_many relationship through the engine, against a hand-written
// walk of the same LMDB index over the same store, measured in the same run.
//
//   bench_load [PARENTS [CHILDREN_PER_PARENT [REPEATS]]]     (defaults 1000, 10, 7)
//
// The store: PARENTS Parent records, each with CHILDREN_PER_PARENT Child records
// (Child.parent_id, a belongs_to), written through the engine once. Then, REPEATS times,
// one full load of every parent's children by each side, taking turns:
//
//   engine    Engine::load(parents, {"children"}): one read snapshot; per distinct
//             parent id one lookup in the dupsort index idx/Child/parent_id, then one
//             get per child key in rec/Child, each decoded (Cap'n Proto) into a Record,
//             checked against the id, grouped and attached to its parent.
//   raw walk  one read transaction; per parent the index key (encode_key of the id),
//             mdb_cursor_get MDB_SET_KEY then MDB_NEXT_DUP over its child keys, and
//             mdb_get of each child in rec/Child: the bytes are touched, not decoded.
//   raw+decode the same walk, each child's bytes decoded with decode_record, as the
//             engine's state projection decodes them: the floor of a load that returns
//             values rather than bytes.
//
// Printed: the median wall time and thread CPU time of one full load per side, and the
// engine's time over each side's. On a shared machine the CPU ratio is the one to read.
//
// Both sides start from the parents' ids already in memory (the engine from the parent
// Records, read outside the timing). LMDB forbids opening one environment twice in a
// process, so each turn opens its side (outside the timing) and closes it after. The
// store lives in a temporary directory (under $TMPDIR, else /tmp), removed at exit.

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/model/key.hpp>

#include <lmdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ashlar::bench::parse_count;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ashlar::bench::TempDir;
using ashlar::bench::check_mdb;

ashlar::Domain bench_domain() {
  using namespace ashlar::dsl;
  return domain("bench")
      .resource(resource("Parent")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("children", "Child")  // Child.parent_id, indexed
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Child")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("score", type::integer)
                    .create_timestamp("inserted_at")
                    .belongs_to("parent", "Parent", {.allow_nil = false})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

struct Sizes {
  std::size_t parents = 1000;
  std::size_t children = 10;  // per parent
  std::size_t repeats = 7;
};

// Writes the store; returns the parents' ids.
std::vector<ashlar::Value> fill(const std::string& dir, const Sizes& sizes) {
  auto engine = ashlar::Engine::open(dir, bench_domain(), {.durability = ashlar::Durability::no_sync}).value();
  std::vector<ashlar::Value> ids;
  for (std::size_t p = 0; p < sizes.parents; ++p) {
    auto parent = engine.create("Parent", {{"name", "parent-" + std::to_string(p)}}).value();
    ids.push_back(parent.id());
  }
  // Children in rounds over the parents, so one parent's children are not adjacent in
  // rec/Child (their uuid keys scatter them anyway).
  for (std::size_t c = 0; c < sizes.children; ++c)
    for (std::size_t p = 0; p < sizes.parents; ++p)
      engine
          .create("Child", {{"name", "child-" + std::to_string(c)},
                            {"score", static_cast<std::int64_t>(p * c)},
                            {"parent_id", ids[p]}})
          .value();
  return ids;
}

// Wall time, and this thread's CPU time: on a busy machine the CPU time is the steadier
// measure of the work itself (the store is in the page cache, so neither waits on disk).
struct Timing {
  double wall = 0;
  double cpu = 0;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class Stopwatch {
 public:
  Timing elapsed() const {
    return {std::chrono::duration<double>(Clock::now() - wall_).count(), thread_cpu_seconds() - cpu_};
  }

 private:
  Clock::time_point wall_ = Clock::now();
  double cpu_ = thread_cpu_seconds();
};

// One engine turn: open, read the parents (untimed), time one full load.
Timing engine_turn(const std::string& dir, std::size_t expected) {
  auto engine = ashlar::Engine::open(dir, bench_domain()).value();
  auto parents = engine.read("Parent").value();
  Stopwatch watch;
  auto loaded = engine.load(std::move(parents), {"children"}).value();
  Timing timing = watch.elapsed();
  std::size_t children = 0;
  for (const auto& p : loaded) children += p.related("children").size();
  if (children != expected) throw std::runtime_error("the engine loaded " + std::to_string(children) + " children");
  return timing;
}

// The raw side's environment, opened read-only like any second reader of the store.
class RawReader {
 public:
  explicit RawReader(const std::string& dir) {
    check_mdb(mdb_env_create(&env_), "mdb_env_create");
    check_mdb(mdb_env_set_maxdbs(env_, 64), "mdb_env_set_maxdbs");
    check_mdb(mdb_env_open(env_, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0644), "mdb_env_open");
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    int rc = mdb_dbi_open(txn, "idx/Child/parent_id", MDB_DUPSORT, &index_);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, "rec/Child", 0, &records_);
    if (rc != MDB_SUCCESS) mdb_txn_abort(txn);
    check_mdb(rc, "mdb_dbi_open");
    check_mdb(mdb_txn_commit(txn), "mdb_txn_commit");  // keeps the handles for the environment
  }
  RawReader(const RawReader&) = delete;
  RawReader& operator=(const RawReader&) = delete;
  ~RawReader() { mdb_env_close(env_); }

  // Every child of every parent, in one read transaction; returns how many were found.
  std::size_t walk(const std::vector<ashlar::Value>& parent_ids, bool decode, std::size_t& touched) const {
    MDB_txn* txn = nullptr;
    check_mdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    MDB_cursor* cursor = nullptr;
    check_mdb(mdb_cursor_open(txn, index_, &cursor), "mdb_cursor_open");
    std::size_t found = 0;
    for (const auto& id : parent_ids) {
      std::string key = ashlar::encode_key(std::span(&id, 1));
      MDB_val k{key.size(), key.data()}, child_key{};
      for (int rc = mdb_cursor_get(cursor, &k, &child_key, MDB_SET_KEY); rc == MDB_SUCCESS;
           rc = mdb_cursor_get(cursor, &k, &child_key, MDB_NEXT_DUP)) {
        MDB_val child{};
        check_mdb(mdb_get(txn, records_, &child_key, &child), "mdb_get");
        const char* bytes = static_cast<const char*>(child.mv_data);
        if (decode) {
          auto record = ashlar::decode_record(std::string_view(bytes, child.mv_size));
          if (!record) throw std::runtime_error(record.error().describe());
          touched += record->attributes.size();
        } else {
          touched += static_cast<unsigned char>(bytes[0]) + static_cast<unsigned char>(bytes[child.mv_size - 1]);
        }
        ++found;
      }
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    return found;
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi index_ = 0, records_ = 0;
};

Timing raw_turn(const std::string& dir, const std::vector<ashlar::Value>& ids, bool decode, std::size_t expected) {
  RawReader raw(dir);
  std::size_t touched = 0;
  Stopwatch watch;
  std::size_t found = raw.walk(ids, decode, touched);
  Timing timing = watch.elapsed();
  if (found != expected) throw std::runtime_error("the raw walk found " + std::to_string(found) + " children");
  if (touched == 0) std::printf("(nothing touched)\n");  // keeps the reads from being optimized away
  return timing;
}

// The medians of the wall and CPU times, each taken on its own.
Timing median(const std::vector<Timing>& turns) {
  std::vector<double> wall, cpu;
  for (const auto& t : turns) wall.push_back(t.wall), cpu.push_back(t.cpu);
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void report(const Sizes& sizes, const std::vector<Timing>& engine, const std::vector<Timing>& raw,
            const std::vector<Timing>& raw_decode) {
  Timing e = median(engine);
  double children = static_cast<double>(sizes.parents * sizes.children);
  std::printf("%zu parents x %zu children = %zu children per load; medians of %zu loads per side\n", sizes.parents,
              sizes.children, sizes.parents * sizes.children, sizes.repeats);
  std::printf("%-11s %12s %12s %14s %14s %14s\n", "side", "wall ms", "cpu ms", "cpu us/child", "engine/side wall",
              "engine/side cpu");
  auto row = [&](const char* name, const std::vector<Timing>& turns) {
    Timing t = median(turns);
    std::printf("%-11s %12.2f %12.2f %14.2f %15.2fx %14.2fx\n", name, t.wall * 1e3, t.cpu * 1e3, t.cpu * 1e6 / children,
                e.wall / t.wall, e.cpu / t.cpu);
  };
  row("engine", engine);
  row("raw walk", raw);
  row("raw+decode", raw_decode);
}


}  // namespace

int main(int argc, char** argv) {
  Sizes sizes;
  if (argc > 4 || (argc > 1 && !parse_count(argv[1], sizes.parents)) ||
      (argc > 2 && !parse_count(argv[2], sizes.children)) || (argc > 3 && !parse_count(argv[3], sizes.repeats))) {
    std::fprintf(stderr,
                 "usage: %s [PARENTS [CHILDREN_PER_PARENT [REPEATS]]]\n"
                 "  has_many loads through the engine vs a raw LMDB index walk of the same store\n"
                 "  (defaults: 1000 parents, 10 children each, 7 repeats)\n",
                 argv[0]);
    return 2;
  }
  try {
    TempDir dir;
    auto ids = fill(dir.path(), sizes);
    std::size_t expected = sizes.parents * sizes.children;
    std::vector<Timing> engine, raw, raw_decode;
    engine_turn(dir.path(), expected);  // warm-up: page cache and allocator, for both sides
    for (std::size_t i = 0; i < sizes.repeats; ++i) {
      engine.push_back(engine_turn(dir.path(), expected));
      raw.push_back(raw_turn(dir.path(), ids, false, expected));
      raw_decode.push_back(raw_turn(dir.path(), ids, true, expected));
    }
    report(sizes, engine, raw, raw_decode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_load: %s\n", e.what());
    return 1;
  }
  return 0;
}
