#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/key.hpp>

#include "support/lmdb_tamper.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <lmdb.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

Event event_for(const std::string& resource, int id, std::uint64_t version = 1) {
  Event e;
  e.domain = "d";
  e.resource = resource;
  e.action = "create";
  e.type = ActionType::create;
  e.version = version;
  e.key = {{"id", id}};
  e.changes = {{"id", id}};
  e.time_micros = 1000 + id;
  return e;
}

std::vector<StoredEvent> scan_all(const Log& log) {
  std::vector<StoredEvent> out;
  auto txn = log.read().value();
  log.scan(txn, 1, [&](const StoredEvent& e) {
       out.push_back(e);
       return true;
     }).value();
  return out;
}

Hash blake2b(const Hash& previous, const std::string& bytes, const std::string& key = {}) {
  std::string input(reinterpret_cast<const char*>(previous.data()), 32);
  input += bytes;
  Hash out;
  crypto_generichash(out.data(), 32, reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return out;
}

// The raw value under `key` in a named database of a closed store; nullopt when the
// database or the key is missing.
std::optional<std::string> peek(const std::string& dir, const char* db, const std::string& key) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 16);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  std::optional<std::string> out;
  MDB_dbi dbi;
  if (mdb_dbi_open(txn, db, 0, &dbi) == 0) {
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v{};
    if (mdb_get(txn, dbi, &k, &v) == 0) out.emplace(static_cast<const char*>(v.mv_data), v.mv_size);
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}

void append_events(Log& log, int from, int to) {
  for (int i = from; i <= to; ++i)
    log.write([&](Txn& txn) -> Result<void> {
         auto s = log.append(txn, event_for("A", i));
         return s ? Result<void>() : fail(s.error());
       }).value();
}

std::string hash_bytes(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

}  // namespace

TEST_CASE("append assigns gapless positions and per-resource sequences") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  log->write([&](Txn& txn) -> Result<void> {
       for (auto [resource, id] : std::vector<std::pair<std::string, int>>{{"A", 1}, {"B", 1}, {"A", 2}}) {
         auto stored = log->append(txn, event_for(resource, id));
         if (!stored) return fail(stored.error());
       }
       return {};
     }).value();
  auto events = scan_all(*log);
  REQUIRE(events.size() == 3);
  CHECK(events[0].event.position == 1);
  CHECK(events[2].event.position == 3);
  CHECK(events[0].event.sequence == 1);
  CHECK(events[1].event.sequence == 1);
  CHECK(events[2].event.sequence == 2);
  auto txn = log->read().value();
  CHECK(log->last_sequence(txn, "A").value() == 2);
  CHECK(log->last_sequence(txn, "C").value() == 0);
  std::vector<Value> key{2};
  CHECK(log->last_version(txn, "A", encode_key(key)).value() == 1);
  CHECK(log->last_version(txn, "B", encode_key(key)).value() == 0);
  CHECK(log->event_at(txn, 2).value()->event.resource == "B");
  CHECK_FALSE(log->event_at(txn, 4).value().has_value());
}

TEST_CASE("appends after a transaction or a nested one that rolled back continue from what was kept") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  log->write([&](Txn& txn) -> Result<void> {
       if (auto a = log->append(txn, event_for("A", 1)); !a) return fail(a.error());
       // Kept: a child that appends and commits.
       auto kept = log->nested(txn, [&](Txn& child) -> Result<void> {
         auto b = log->append(child, event_for("B", 1));
         return b ? Result<void>() : fail(b.error());
       });
       if (!kept) return kept;
       // Rolled back: a child (with a grandchild that committed into it) that then fails.
       auto dropped = log->nested(txn, [&](Txn& child) -> Result<void> {
         if (auto b = log->append(child, event_for("B", 2)); !b) return fail(b.error());
         auto inner = log->nested(child, [&](Txn& grandchild) -> Result<void> {
           auto a = log->append(grandchild, event_for("A", 2));
           return a ? Result<void>() : fail(a.error());
         });
         if (!inner) return inner;
         return fail(Error::unknown("rolled back"));
       });
       CHECK_FALSE(dropped);
       auto b = log->append(txn, event_for("B", 3));
       if (!b) return fail(b.error());
       CHECK(b->event.position == 3);
       CHECK(b->event.sequence == 2);
       return {};
     }).value();
  // A transaction that appends and fails leaves nothing; a later one continues from what
  // was committed.
  auto failed = log->write_once([&](Txn& txn) -> Result<void> {
    if (auto a = log->append(txn, event_for("A", 9)); !a) return fail(a.error());
    return fail(Error::unknown("rolled back"));
  });
  CHECK_FALSE(failed);
  log->write([&](Txn& txn) -> Result<void> {
       auto a = log->append(txn, event_for("A", 4));
       if (!a) return fail(a.error());
       CHECK(a->event.position == 4);
       CHECK(a->event.sequence == 2);
       return {};
     }).value();
  auto events = scan_all(*log);
  REQUIRE(events.size() == 4);
  Hash h{};
  for (std::size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].event.position == i + 1);
    h = blake2b(h, events[i].bytes);
    CHECK(events[i].hash == h);
  }
  CHECK(events[2].event.key == Fields{{"id", 3}});
  auto txn = log->read().value();
  CHECK(log->check(txn, {}).value().problems.empty());
}

TEST_CASE("the hash chain is BLAKE2b-256 over the previous hash and the stored bytes") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  for (int i = 1; i <= 3; ++i)
    log->write([&](Txn& txn) -> Result<void> {
         auto s = log->append(txn, event_for("A", i));
         return s ? Result<void>() : fail(s.error());
       }).value();
  Hash h{};  // h(0): 32 zero bytes
  for (const auto& e : scan_all(*log)) {
    // The stored bytes are exactly the event's encoding: they exclude its own hash.
    CHECK(e.bytes == encode_event(e.event));
    h = blake2b(h, e.bytes);
    CHECK(e.hash == h);
  }
  auto txn = log->read().value();
  auto head = log->head(txn).value();
  CHECK(head.position == 3);
  CHECK(head.hash == h);
  CHECK(to_hex(head.hash).size() == 64);
}

TEST_CASE("a keyed chain differs from the unkeyed one and needs the key to recompute") {
  TempDir a, b;
  std::string key(32, 'k');
  auto plain = Log::open(a.path()).value();
  auto keyed = Log::open(b.path(), {.chain_key = key}).value();
  for (auto* log : {plain.get(), keyed.get()})
    log->write([&](Txn& txn) -> Result<void> {
         auto s = log->append(txn, event_for("A", 1));
         return s ? Result<void>() : fail(s.error());
       }).value();
  auto p = scan_all(*plain).at(0), k = scan_all(*keyed).at(0);
  CHECK(p.bytes == k.bytes);
  CHECK(p.hash != k.hash);
  CHECK(k.hash == blake2b(Hash{}, k.bytes, key));
  auto short_key = Log::open(b.sub("other"), {.chain_key = "short"});
  REQUIRE_FALSE(short_key.has_value());
  CHECK(short_key.error().message == "the chain key must be 16 to 64 bytes, not 5");
}

TEST_CASE("a chain is continued only under the key it was written with") {
  TempDir keyed_dir, plain_dir;
  std::string key(32, 'k'), other(32, 'o');
  auto append_one = [](Log& log, int i) {
    return log.write([&](Txn& txn) -> Result<void> {
      auto s = log.append(txn, event_for("A", i));
      return s ? Result<void>() : fail(s.error());
    });
  };
  {
    auto keyed = Log::open(keyed_dir.path(), {.chain_key = key}).value();
    append_one(*keyed, 1).value();
    append_one(*keyed, 2).value();
    append_one(*Log::open(plain_dir.path()).value(), 1).value();
  }
  auto refused = [&](const std::string& dir, const std::string& with) {
    auto log = Log::open(dir, {.chain_key = with}).value();  // opening is fine: a rebuild appends nothing
    auto r = append_one(*log, 3);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == "chain_key");
    CHECK(log->head().value().position == (dir == keyed_dir.path() ? 2u : 1u));
    return r.error().message;
  };
  auto ending = " was changed: ashlar verify tells which); appending under another key would break the chain for good";
  CHECK(refused(keyed_dir.path(), "") ==
        keyed_dir.path() + ": its hash chain is keyed: open it with its chain key (or its last event, 2," + ending);
  CHECK(refused(keyed_dir.path(), other) ==
        keyed_dir.path() + ": its hash chain is keyed with another key than the one given (or its last event, 2," + ending);
  CHECK(refused(plain_dir.path(), key) ==
        plain_dir.path() + ": its hash chain is not keyed: open it without a chain key (or its last event, 1," + ending);
  // Under its own key the chain goes on, and checks whole.
  auto keyed = Log::open(keyed_dir.path(), {.chain_key = key}).value();
  append_one(*keyed, 3).value();
  auto txn = keyed->read().value();
  CHECK(keyed->check(txn, {.chain_key = key}).value().problems.empty());
}

TEST_CASE("a failed write keeps nothing") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  auto r = log->write([&](Txn& txn) -> Result<void> {
    auto s = log->append(txn, event_for("A", 1));
    if (!s) return fail(s.error());
    return fail(Error::invalid("A", "create", {{"x", "bad", "is bad"}}));
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().fields.at(0).code == "bad");
  CHECK(scan_all(*log).empty());
  auto txn = log->read().value();
  CHECK(log->last_sequence(txn, "A").value() == 0);
}

TEST_CASE("an unknown format version and a store opened read-only are refused for writing") {
  TempDir dir;
  { Log::open(dir.path()).value(); }
  test::poke_entry(dir.path(), "meta", "format", std::string("\0\0\0\x03", 4));
  auto r = Log::open(dir.path());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == dir.path() + " has format version 3; this build reads versions 1 to 2");
  CHECK(Log::open_read_only(dir.path()).error().message == r.error().message);
  LogOptions unknown;
  unknown.format_version = 3;
  auto asked = Log::open(dir.sub("new"), unknown);
  REQUIRE_FALSE(asked.has_value());
  CHECK(asked.error().message == "format_version 3 is not one this build writes: 1 to 2");
  CHECK_FALSE(std::filesystem::exists(dir.sub("new")));
}

TEST_CASE("a new store keeps each event's chain hash at the start of its events entry (format 2)") {
  TempDir dir;
  Hash head{};
  {
    auto log = Log::open(dir.path()).value();
    CHECK(log->format_version() == 2);
    append_events(*log, 1, 3);
    head = log->head().value().hash;
  }
  CHECK(peek(dir.path(), "meta", "format") == std::string("\0\0\0\x02", 4));
  CHECK_FALSE(peek(dir.path(), "chain", be64(1)).has_value());  // no chain table at all
  auto log = Log::open_read_only(dir.path()).value();
  CHECK(log->format_version() == 2);
  auto events = scan_all(*log);
  REQUIRE(events.size() == 3);
  for (const auto& e : events)
    CHECK(peek(dir.path(), "events", be64(e.event.position)) == hash_bytes(e.hash) + e.bytes);
  CHECK(events.back().hash == head);
  auto txn = log->read().value();
  auto check = log->check(txn, {}).value();
  CHECK(check.problems.empty());
  CHECK(check.head.position == 3);
  CHECK(check.head.hash == head);
}

TEST_CASE("a format 1 store stays format 1: its hashes in the chain table, its events' bytes alone") {
  TempDir dir;
  {
    LogOptions first;
    first.format_version = 1;
    auto log = Log::open(dir.path(), first).value();
    CHECK(log->format_version() == 1);
    append_events(*log, 1, 2);
  }
  {
    auto log = Log::open(dir.path()).value();  // the default asks for format 2 only for a new store
    CHECK(log->format_version() == 1);
    append_events(*log, 3, 3);
  }
  CHECK(peek(dir.path(), "meta", "format") == std::string("\0\0\0\x01", 4));
  auto log = Log::open_read_only(dir.path()).value();
  CHECK(log->format_version() == 1);
  auto events = scan_all(*log);
  REQUIRE(events.size() == 3);
  Hash h{};
  for (const auto& e : events) {
    h = blake2b(h, e.bytes);
    CHECK(e.hash == h);
    CHECK(peek(dir.path(), "events", be64(e.event.position)) == e.bytes);
    CHECK(peek(dir.path(), "chain", be64(e.event.position)) == hash_bytes(h));
  }
  {
    auto txn = log->read().value();
    CHECK(log->head(txn).value().hash == h);
    std::vector<std::uint64_t> versions;
    log->scan_record_back(txn, "A", encode_key(std::vector<Value>{Value(2)}), 1, [&](const StoredEvent& e) {
         versions.push_back(e.event.position);
         CHECK(e.hash == events[1].hash);
         return true;
       }).value();
    CHECK(versions == std::vector<std::uint64_t>{2});
    CHECK(log->check(txn, {}).value().problems.empty());
  }
  log.reset();
  test::poke_entry(dir.path(), "chain", be64(2), std::string(32, '\x07'));
  log = Log::open_read_only(dir.path()).value();
  auto txn = log->read().value();
  CHECK(log->check(txn, {}).value().problems ==
        std::vector<std::string>{"the hash chain breaks at position 2: the event's bytes or its stored hash were "
                                 "changed"});
}

TEST_CASE("a format 2 entry too short to hold a hash, or with another hash, breaks the chain there") {
  TempDir dir;
  {
    auto log = Log::open(dir.path()).value();
    append_events(*log, 1, 3);
  }
  std::string value = *peek(dir.path(), "events", be64(2));
  value[5] ^= 0x01;  // inside the hash: the bytes still decode
  test::poke_entry(dir.path(), "events", be64(2), value);
  {
    auto log = Log::open_read_only(dir.path()).value();
    auto txn = log->read().value();
    CHECK(log->check(txn, {}).value().problems ==
          std::vector<std::string>{"the hash chain breaks at position 2: the event's bytes or its stored hash were "
                                   "changed"});
  }
  test::poke_entry(dir.path(), "events", be64(3), std::string(31, '\x01'));
  auto log = Log::open_read_only(dir.path()).value();
  auto txn = log->read().value();
  CHECK(log->head(txn).error().message == "the store is corrupted: the last event has no chain hash");
  auto scanned = log->scan(txn, 3, [](const StoredEvent&) { return true; });
  REQUIRE_FALSE(scanned.has_value());
  CHECK(scanned.error().message == "the store is corrupted: event 3 has no chain hash");
}

TEST_CASE("an index missing entries is reported as missing them") {
  TempDir dir;
  {
    auto log = Log::open(dir.path()).value();
    append_events(*log, 1, 3);
  }
  test::poke_entry(dir.path(), "by_resource", std::string("A") + '\0' + be64(1), {}, /*erase=*/true);
  auto log = Log::open_read_only(dir.path()).value();
  auto txn = log->read().value();
  CHECK_THAT(log->check(txn, {}).value().problems,
             Catch::VectorContains(std::string("by_resource has 2 entries for 3 events: it misses some of them")));
}

TEST_CASE("a read-only log cannot write and a garbage data.mdb is not a store") {
  TempDir dir;
  {
    auto log = Log::open(dir.sub("s")).value();
  }
  auto ro = Log::open_read_only(dir.sub("s")).value();
  auto w = ro->write([](Txn&) { return Result<void>(); });
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().message == dir.sub("s") + " is open read-only");

  std::filesystem::create_directories(dir.sub("g"));
  {
    std::ofstream f(dir.sub("g") + "/data.mdb");
    f << std::string(8192, 'g');
  }
  auto g = Log::open_read_only(dir.sub("g"));
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().message == dir.sub("g") + " is not an ashlar store: data.mdb is not an LMDB file this build reads");
}

TEST_CASE("scan reports the position of an event that does not decode") {
  TempDir dir;
  {
    auto log = Log::open(dir.path()).value();
    for (int i = 1; i <= 3; ++i)
      log->write([&](Txn& txn) -> Result<void> {
           auto s = log->append(txn, event_for("A", i));
           return s ? Result<void>() : fail(s.error());
         }).value();
  }
  test::poke_entry(dir.path(), "events", std::string("\0\0\0\0\0\0\0\x02", 8), std::string(32, '\0') + std::string(64, '\xff'));
  auto log = Log::open_read_only(dir.path()).value();
  auto txn = log->read().value();
  int seen = 0;
  auto r = log->scan(txn, 1, [&](const StoredEvent&) {
    ++seen;
    return true;
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(seen == 1);
  CHECK(r.error().code == codes::kDecodeError);
  CHECK(r.error().message == "event at position 2 does not decode: its segment table claims more than its 64 bytes "
                             "hold");
}

TEST_CASE("an idempotency key is stored with its event and indexed per tenant, once") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  auto append = [&](int id, std::string tenant, std::string key) {
    return log->write([&](Txn& txn) -> Result<void> {
      Event e = event_for("A", id);
      e.tenant = tenant;
      e.idempotency_key = key;
      auto stored = log->append(txn, e);
      if (!stored) return fail(stored.error());
      return {};
    });
  };
  append(1, "", "k").value();
  append(2, "acme", "k").value();
  append(3, "", "").value();
  auto reused = append(4, "", "k");
  REQUIRE_FALSE(reused.has_value());
  CHECK(reused.error().describe() == "conflict: A.create: idempotency key \"k\" is already used by another action");
  {
    auto txn = log->read().value();
    CHECK(log->idempotent_position(txn, "", "k").value() == std::optional<std::uint64_t>{1});
    CHECK(log->idempotent_position(txn, "acme", "k").value() == std::optional<std::uint64_t>{2});
    CHECK_FALSE(log->idempotent_position(txn, "other", "k").value().has_value());
    CHECK(log->head(txn).value().position == 3);  // the refused append kept nothing
    CHECK(scan_all(*log)[0].event.idempotency_key == "k");
    CHECK(log->check(txn, {}).value().problems.empty());
  }
  log.reset();
  // An entry pointing elsewhere is found by check.
  Value parts[] = {Value(""), Value("k")};
  test::poke_entry(dir.path(), "idem", encode_key(parts), std::string("\0\0\0\0\0\0\0\3", 8));
  auto reopened = Log::open_read_only(dir.path()).value();
  auto txn = reopened->read().value();
  CHECK(reopened->check(txn, {}).value().problems ==
        std::vector<std::string>{"idem: idempotency key \"k\" points at position 3, not at event 1"});
}
