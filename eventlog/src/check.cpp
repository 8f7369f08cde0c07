// Log::check: the hash chain, the positions and the stream indexes, in one pass.
#include <ashlar/eventlog/log.hpp>

#include <ashlar/model/key.hpp>

#include "entries.hpp"
#include "keys.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>

namespace ashlar {
namespace {

constexpr std::size_t kMaxProblems = 50;  // past this the first ones say enough

struct Checker {
  const Log& log;
  const Txn& txn;
  const LogCheckOptions& options;
  Db by_resource, by_record;
  LogCheck out;
  Hash previous{};
  bool chain_intact = true;
  std::map<std::string, std::uint64_t, std::less<>> sequences;
  Db idem{};
  std::uint64_t keyed = 0;  // events with an idempotency key

  void problem(std::string text) {
    if (out.problems.size() < kMaxProblems) out.problems.push_back(std::move(text));
    else if (out.problems.size() == kMaxProblems) out.problems.push_back("... and more problems");
  }

  void check_hash(std::uint64_t position, std::string_view bytes, std::string_view stored) {
    if (!chain_intact) return;
    Hash h = Log::chain(previous, bytes, options.chain_key);
    if (stored.size() != entries::kHashSize) {
      problem(fmt::format("position {} has no stored hash: the {} table was changed", position,
                          log.format_version() == 1 ? "chain" : "events"));
      chain_intact = false;
    } else if (std::memcmp(stored.data(), h.data(), entries::kHashSize) != 0) {
      std::string hint = position == 1 && options.chain_key.empty() ? " (or the chain is keyed: give its key)" : "";
      problem(fmt::format("the hash chain breaks at position {}: the event's bytes or its stored hash were "
                          "changed{}",
                          position, hint));
      chain_intact = false;
    }
    previous = h;
    if (position == options.expect_position && chain_intact && h != options.expect_hash)
      problem(fmt::format("h({}) is {}, not the expected {}: the log up to position {} is not the one recorded",
                          position, to_hex(h), to_hex(options.expect_hash), position));
    if (position == options.expect_position && !chain_intact)
      problem(fmt::format("position {} cannot be proven: the chain breaks at or before it", position));
  }

  void check_entry(Db db, std::string_view name, const std::string& key, std::uint64_t position,
                   const std::string& what) {
    auto v = txn.get(db, key);
    if (!v) return problem(fmt::format("{}: {}", name, v.error().message));
    if (!*v) return problem(fmt::format("{} has no entry for {} (event {})", name, what, position));
    if (**v != keys::be64(position))
      problem(fmt::format("{}: {} points at position {}, not at event {}", name, what, keys::read_be64(**v), position));
  }

  void check_event(std::uint64_t position, std::string_view bytes, std::string_view hash) {
    auto decoded = decode_event(bytes, position);
    if (!decoded) return problem(decoded.error().message);
    const Event& e = *decoded;
    if (e.position != position) problem(fmt::format("event {} says it is at position {}", position, e.position));
    std::uint64_t& last = sequences[e.resource];
    if (e.sequence != last + 1)
      problem(fmt::format("event {}: {} sequence {} does not follow {}", position, e.resource, e.sequence, last));
    last = e.sequence;
    check_entry(by_resource, "by_resource", keys::resource_prefix(e.resource) + keys::be64(e.sequence), position,
                fmt::format("{} sequence {}", e.resource, e.sequence));
    std::string key_bytes;
    for (const auto& [name, value] : e.key) append_key(key_bytes, value);
    check_entry(by_record, "by_record", keys::record_prefix(e.resource, key_bytes) + keys::be64(e.version), position,
                fmt::format("{} version {} of the record at event {}", e.resource, e.version, position));
    if (!e.idempotency_key.empty()) {
      ++keyed;
      check_entry(idem, "idem", keys::idempotency(e.tenant, e.idempotency_key), position,
                  fmt::format("idempotency key \"{}\"", e.idempotency_key));
    }
    if (options.visit) {
      StoredEvent stored{std::move(*decoded), std::string(bytes), {}};
      if (hash.size() == entries::kHashSize) std::memcpy(stored.hash.data(), hash.data(), entries::kHashSize);
      options.visit(stored);
    }
  }

  void check_count(Db db, std::string_view name, std::optional<std::uint64_t> expected = std::nullopt) {
    auto n = txn.count(db);
    if (!n) return problem(fmt::format("{}: {}", name, n.error().message));
    std::uint64_t want = expected.value_or(out.events);
    if (*n > want)
      problem(fmt::format("{} has {} entries for {} events: it names events that are not in the log", name, *n, want));
    else if (*n < want)
      problem(fmt::format("{} has {} entries for {} events: it misses some of them", name, *n, want));
  }
};

}  // namespace

Result<LogCheck> Log::check(const Txn& txn, const LogCheckOptions& options) const {
  Checker c{*this, txn, options, by_resource_, by_record_, {}, {}, true, {}};
  c.idem = idem_;
  ASHLAR_TRY(events, txn.cursor(events_));
  std::uint64_t expected = 1;
  for (auto found = events->first();; found = events->next()) {
    if (!found) return fail(found.error());
    if (!*found) break;
    if (events->key().size() != 8) {
      c.problem("events: a malformed key");
      continue;
    }
    std::uint64_t position = keys::read_be64(events->key());
    if (position != expected) {
      c.problem(fmt::format("position {} is missing: the log jumps from {} to {}", expected, expected - 1, position));
      c.chain_intact = false;
    }
    ASHLAR_TRY(entry, entries::of(txn, {events_, chain_, format_version_ != 1}, events->key(), events->value()));
    c.check_hash(position, entry->bytes, entry->hash);
    c.check_event(position, entry->bytes, entry->hash);
    ++c.out.events;
    expected = position + 1;
    if (options.progress && position % 4096 == 0) options.progress(position);
  }
  if (options.expect_position >= expected)
    c.problem(fmt::format("position {} is beyond the head: the log has {} events", options.expect_position,
                          expected - 1));
  if (format_version_ == 1) c.check_count(chain_, "chain");
  c.check_count(by_resource_, "by_resource");
  c.check_count(by_record_, "by_record");
  c.check_count(idem_, "idem", c.keyed);
  ASHLAR_TRY(h, head(txn));
  c.out.head = *h;
  return c.out;
}

}  // namespace ashlar
