// bench_rebuild: rebuilding the state projection from the log (ashlar::rebuild: fold into
// staging tables in batches with checkpoints, then swap them into the live ones), against
// the floor under it: a raw LMDB cursor walking the same `events` database in order and
// decoding every event (decode_event), measured in the same run on the same store.
//
//   bench_rebuild [EVENTS]     (default 1000000)
//
// The log is built first, without the engine's per-action work: write transactions of
// 20,000 events, each appended (Log::append: encoding, hash chain, stream indexes) and
// folded into the state projection, with syncing off. Its events: creates of Accounts
// (a name, a balance, an owner indexed for a has_many, a unique email) and updates of
// their balances, three updates for every two creates. Then, on the same store:
//   0. read:    the same walk, each value read in place by Cap'n Proto's generated reader,
//               every field decode_event copies out visited and none copied (the floor
//               under decode_event: what the issue calls Cap'n Proto's own read speed);
//   1. scan:    one read transaction, MDB_NEXT over `events`, decode_event on each value;
//   2. replay:  the same events folded into memory (what verify and time travel do);
//   3. rebuild: ashlar::rebuild, 50,000 events per batch, syncing off.
// The store lives in a temporary directory (under $TMPDIR, else /tmp), removed at exit.

#include "bench_support.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/state.hpp>

#include <capnp/serialize.h>
#include <lmdb.h>

#include "schema/event.capnp.h"

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ashlar::bench::TempDir;

ashlar::Domain bank() {
  using namespace ashlar::dsl;
  return domain("bank")
      .resource(resource("Owner").uuid_primary_key("id").attribute("name", type::string).has_many("accounts", "Account")
                    .defaults({"read", "create:*"}))
      .resource(resource("Account")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("email", type::string)
                    .attribute("balance", type::integer, {.default_value = 0})
                    .belongs_to("owner", "Owner")
                    .identity("unique_email", {"email"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

using ashlar::bench::Timing;
using ashlar::bench::timed;

ashlar::Event account_event(std::uint64_t i, const std::vector<ashlar::Uuid>& ids, const ashlar::Uuid& owner) {
  using namespace ashlar;
  Event e;
  e.domain = "bank";
  e.resource = "Account";
  e.time_micros = 1'700'000'000'000'000 + static_cast<std::int64_t>(i);
  e.actor = Value("teller-" + std::to_string(i % 7));
  // Three updates for every two creates, each update to an account created before.
  if (i % 5 < 2 || ids.size() < 2) {
    e.action = "create";
    e.type = ActionType::create;
    e.version = 1;
    e.key = {{"id", ids.back()}};
    e.changes = {{"id", ids.back()},
                 {"name", "account " + std::to_string(i)},
                 {"email", "holder" + std::to_string(i) + "@example.com"},
                 {"balance", 0},
                 {"owner_id", owner}};
    e.inputs = {{"name", e.changes[1].second}, {"email", e.changes[2].second}, {"owner_id", owner}};
  } else {
    e.action = "update";
    e.type = ActionType::update;
    e.key = {{"id", ids[(i * 7919) % (ids.size() - 1)]}};
    e.changes = {{"balance", static_cast<std::int64_t>(i % 1000)}};
    e.inputs = e.changes;
  }
  return e;
}

// Appends `count` events, folded into the state projection, in large transactions.
void build_log(ashlar::Log& log, const ashlar::StateProjection& state, std::uint64_t count) {
  using namespace ashlar;
  std::vector<Uuid> ids;
  std::vector<std::uint64_t> versions;
  Uuid owner = Uuid::v4();
  constexpr std::uint64_t kBatch = 20000;
  for (std::uint64_t done = 0; done < count;) {
    std::uint64_t n = std::min(kBatch, count - done);
    const std::size_t known = ids.size();
    const std::vector<std::uint64_t> before = versions;
    log.write([&](Txn& txn) -> Result<void> {
         // Log::write runs this again after growing the map: start from the same state.
         ids.resize(known);
         versions = before;
         for (std::uint64_t i = done; i < done + n; ++i) {
           if (i % 5 < 2 || ids.size() < 2) {
             ids.push_back(Uuid::v4());
             versions.push_back(1);
           }
           Event e = account_event(i, ids, owner);
           if (e.type == ActionType::update) {
             std::size_t at = (i * 7919) % (ids.size() - 1);
             e.version = ++versions[at];
           }
           auto stored = log.append(txn, std::move(e));
           if (!stored) return fail(stored.error());
           auto applied = state.apply(txn, stored->event);
           if (!applied) return fail(applied.error());
         }
         return {};
       }).value();
    done += n;
  }
}

// Sums what a reader of the value sees, so that the compiler keeps every read.
std::uint64_t visit(capnp::List<ashlar::schema::Field>::Reader fields);
std::uint64_t visit(ashlar::schema::Value::Reader v) {
  using ashlar::schema::Value;
  switch (v.which()) {
    case Value::NULL_: return 0;
    case Value::BOOLEAN: return v.getBoolean();
    case Value::INTEGER: return static_cast<std::uint64_t>(v.getInteger());
    case Value::FLOAT: return static_cast<std::uint64_t>(v.getFloat());
    case Value::STRING: return v.getString().size();
    case Value::UUID: return v.getUuid().size();
    case Value::DATETIME: return static_cast<std::uint64_t>(v.getDatetime());
    case Value::DATE: return static_cast<std::uint64_t>(v.getDate());
    case Value::ATOM: return v.getAtom().size();
    case Value::BINARY: return v.getBinary().size();
    case Value::MAP: return visit(v.getMap());
    case Value::ARRAY: {
      std::uint64_t sum = 0;
      for (auto item : v.getArray()) sum += visit(item);
      return sum;
    }
  }
  return 0;
}

std::uint64_t visit(capnp::List<ashlar::schema::Field>::Reader fields) {
  std::uint64_t sum = 0;
  for (auto f : fields) sum += f.getName().size() + visit(f.getValue());
  return sum;
}

// Walks the events database in order, calling fn on each event's bytes (a format 2 store:
// each value is the 32-byte chain hash, then the event's bytes); the number walked.
template <typename F>
std::uint64_t walk_events(const std::string& path, F&& fn) {
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, 4096);
  if (int rc = mdb_env_open(env, path.c_str(), MDB_RDONLY | MDB_NOTLS, 0644); rc != 0)
    throw std::runtime_error(mdb_strerror(rc));
  MDB_txn* txn = nullptr;
  mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi events = 0;
  mdb_dbi_open(txn, "events", 0, &events);
  MDB_cursor* cursor = nullptr;
  mdb_cursor_open(txn, events, &cursor);
  MDB_val k, v;
  std::uint64_t n = 0;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    if (v.mv_size < 32) throw std::runtime_error("an events value too short for format 2");
    fn(std::string_view(static_cast<const char*>(v.mv_data) + 32, v.mv_size - 32));
    ++n;
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return n;
}

// The floor: every event's bytes in order, through a raw cursor, decoded.
std::uint64_t raw_scan(const std::string& path) {
  std::uint64_t checksum = 0;
  std::uint64_t n = walk_events(path, [&](std::string_view bytes) {
    auto e = ashlar::decode_event(bytes);
    if (!e) throw std::runtime_error(e.error().message);
    checksum += e->version;  // keep the decode observable
  });
  if (checksum == 0) throw std::runtime_error("no events");
  return n;
}

// Under that: Cap'n Proto's reader on the same bytes, copied to an aligned buffer first
// as decode_event copies them (LMDB values are not 8-byte aligned), every field visited.
std::uint64_t capnp_scan(const std::string& path) {
  kj::Array<capnp::word> aligned = kj::heapArray<capnp::word>(1 << 12);  // (words are not movable)
  std::uint64_t checksum = 0;
  std::uint64_t n = walk_events(path, [&](std::string_view bytes) {
    std::size_t words = bytes.size() / sizeof(capnp::word);
    if (aligned.size() < words) aligned = kj::heapArray<capnp::word>(words);
    std::memcpy(aligned.begin(), bytes.data(), words * sizeof(capnp::word));
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(aligned.begin(), words));
    auto e = reader.getRoot<ashlar::schema::Event>();
    checksum += e.getPosition() + e.getSequence() + e.getVersion() + e.getTx() + e.getDomain().size() +
                e.getResource().size() + e.getAction().size() + static_cast<std::uint64_t>(e.getActionType()) +
                visit(e.getKey()) + visit(e.getChanges()) + visit(e.getInputs()) + visit(e.getActor()) +
                e.getCorrelationId().size() + e.getCausationId().size() + e.getTenant().size() +
                static_cast<std::uint64_t>(e.getTimeMicros()) + e.getIdempotencyKey().size();
  });
  if (checksum == 0) throw std::runtime_error("no events");
  return n;
}

void report(const char* what, std::uint64_t events, Timing t) {
  double n = static_cast<double>(events);
  std::printf("  %-32s %9.0f events/s wall (%6.2f s)  %9.0f events/s cpu (%6.2f s)\n", what, n / t.wall, t.wall,
              n / t.cpu, t.cpu);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ashlar;
  std::uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  TempDir dir;
  Domain domain = bank();
  LogOptions options;
  options.durability = Durability::no_sync;
  options.initial_map_size = std::size_t{4} << 30;  // sparse: no growing while building
  auto log = Log::open(dir.path(), options).value();
  log->write([&](Txn& txn) { return log->put_model(txn, domain_to_json(domain)); }).value();
  auto state = StateProjection::open(*log, domain).value();

  Timing built = timed([&] { build_log(*log, state, count); });
  std::printf("bench_rebuild: %llu events (2 creates : 3 updates), built in %.1f s (%.0f events/s appended and "
              "folded); data.mdb %.0f MiB\n",
              static_cast<unsigned long long>(count), built.wall, static_cast<double>(count) / built.wall,
              static_cast<double>(fs::file_size(fs::path(dir.path()) / "data.mdb")) / (1 << 20));

  std::uint64_t read_in_place = 0;
  Timing capnp_read = timed([&] { read_in_place = capnp_scan(dir.path()); });
  report("raw cursor scan + Cap'n Proto read", read_in_place, capnp_read);
  std::uint64_t scanned = 0;
  Timing scan = timed([&] { scanned = raw_scan(dir.path()); });
  report("raw cursor scan + decode_event", scanned, scan);

  Timing replay = timed([&] {
    MemoryStore memory(state.tables());
    RebuildTarget target = state.target();
    auto txn = log->read().value();
    fold(*log, txn, 1, 0, {&target}, {&memory}).value();
  });
  report("replay into memory", count, replay);

  RebuildReport rebuilt;
  Timing rebuild_time = timed([&] { rebuilt = rebuild(*log, {state.target()}, {.batch_events = 50000}).value(); });
  if (!rebuilt.complete || rebuilt.events != count) throw std::runtime_error("the rebuild did not complete");
  report("rebuild (staged, swapped in)", count, rebuild_time);
  std::printf("ratio: rebuild throughput / scan throughput = %.2f wall, %.2f cpu (replay into memory: %.2f, %.2f)\n",
              scan.wall / rebuild_time.wall, scan.cpu / rebuild_time.cpu, scan.wall / replay.wall,
              scan.cpu / replay.cpu);
  std::printf("ratio: scan + decode_event / scan + Cap'n Proto read = %.2f wall, %.2f cpu\n",
              capnp_read.wall / scan.wall, capnp_read.cpu / scan.cpu);
  return 0;
}
