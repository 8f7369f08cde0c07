// Rebuilds in batches into staging databases, resumable from a checkpoint, swapped into
// the live tables in one transaction (see rebuild.hpp).
#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/projections/rebuild.hpp>

#include <fmt/format.h>
#include <sodium.h>

namespace ashlar {
namespace {

constexpr std::string_view kCheckpointKey = "rebuild";

// What a checkpoint belongs to: the targets, their tables and the caller's fingerprint.
std::string fingerprint(const std::vector<RebuildTarget>& targets, std::string_view extra) {
  std::string text(extra);
  for (const auto& t : targets) {
    text += '\n' + t.name;
    for (const auto& table : t.tables) text += fmt::format("\t{}{}", table.name, table.dupsort ? "*" : "");
  }
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(hash), sizeof hash);
}

// A target's live and staging databases.
struct Tables {
  std::vector<Db> live, staging;
};

Result<std::vector<Tables>> open_tables(Log& log, const std::vector<RebuildTarget>& targets) {
  std::vector<Tables> out;
  for (const auto& t : targets) {
    Tables tables;
    for (const auto& spec : t.tables) {
      ASHLAR_TRY(live, log.database(spec.name, spec.dupsort));
      ASHLAR_TRY(staging, log.database(staging_name(spec.name), spec.dupsort));
      tables.live.push_back(*live);
      tables.staging.push_back(*staging);
    }
    out.push_back(std::move(tables));
  }
  return out;
}

// Replaces each live table by its staging copy, which is left empty.
Result<void> swap_in(Txn& txn, const std::vector<RebuildTarget>& targets, const std::vector<Tables>& tables) {
  for (std::size_t t = 0; t < targets.size(); ++t) {
    for (std::size_t i = 0; i < targets[t].tables.size(); ++i) {
      Db live = tables[t].live[i], staging = tables[t].staging[i];
      bool dupsort = targets[t].tables[i].dupsort;
      ASHLAR_TRY_VOID(txn.clear(live));
      std::string previous;
      ASHLAR_TRY(c, txn.cursor(staging));
      for (auto found = c->first();; found = c->next()) {
        if (!found) return fail(found.error());
        if (!*found) break;
        // In key order: each entry goes at the end, a B-tree append rather than a search.
        bool same_key = dupsort && !previous.empty() && c->key() == previous;
        auto put = txn.put(live, c->key(), c->value(), same_key ? Txn::PutMode::append_dup : Txn::PutMode::append);
        if (dupsort) previous.assign(c->key());
        if (!put)
          return fail(Error::unknown(fmt::format("copying the rebuilt {} into place: {}", targets[t].tables[i].name,
                                                 put.error().message)));
      }
      ASHLAR_TRY_VOID(txn.clear(staging));
    }
  }
  return {};
}

struct Batch {
  std::uint64_t resumed_from = 0;
  std::uint64_t position = 0;
  std::uint64_t head = 0;
  std::uint64_t events = 0;
  bool complete = false;
};

// One write transaction: resume (or restart) from the checkpoint, fold up to a batch,
// then either store the checkpoint or, at the head, swap the tables in.
Result<Batch> run_batch(Log& log, Txn& txn, const std::vector<RebuildTarget>& targets,
                        const std::vector<Tables>& tables, const RebuildOptions& options, const std::string& print) {
  Batch batch;
  ASHLAR_TRY(stored, log.get_meta(txn, kCheckpointKey));
  const std::optional<std::string>& checkpoint = *stored;
  if (checkpoint && checkpoint->size() == 8 + print.size() && checkpoint->substr(8) == print) {
    batch.resumed_from = batch.position = read_be64(*checkpoint);
  } else {
    for (const auto& t : tables)
      for (Db db : t.staging) ASHLAR_TRY_VOID(txn.clear(db));
  }
  ASHLAR_TRY(head, log.head(txn));
  batch.head = head->position;
  std::uint64_t to = std::min(batch.head, batch.position + std::max<std::size_t>(options.batch_events, 1));
  std::vector<LmdbStore> stores;
  std::vector<const RebuildTarget*> pointers;
  std::vector<StateStore*> store_pointers;
  stores.reserve(targets.size());
  for (std::size_t t = 0; t < targets.size(); ++t) {
    stores.emplace_back(txn, tables[t].staging, targets[t].tables);
    pointers.push_back(&targets[t]);
  }
  for (auto& s : stores) store_pointers.push_back(&s);
  if (to > batch.position) {
    ASHLAR_TRY(folded, fold(log, txn, batch.position + 1, to, pointers, store_pointers, options.upcast));
    batch.events = *folded;
    batch.position = to;
  }
  if (batch.position < batch.head) {
    ASHLAR_TRY_VOID(log.put_meta(txn, kCheckpointKey, be64(batch.position) + print));
    return batch;
  }
  ASHLAR_TRY_VOID(swap_in(txn, targets, tables));
  for (const auto& t : targets)
    if (!t.checkpoint_key.empty()) ASHLAR_TRY_VOID(log.put_meta(txn, t.checkpoint_key, be64(batch.head)));
  ASHLAR_TRY(removed, log.del_meta(txn, kCheckpointKey));
  if (options.on_swap) ASHLAR_TRY_VOID(options.on_swap(txn));
  batch.complete = true;
  return batch;
}

}  // namespace

Result<std::uint64_t> fold(const Log& log, const Txn& txn, std::uint64_t from, std::uint64_t to,
                           const std::vector<const RebuildTarget*>& targets, const std::vector<StateStore*>& stores,
                           const Upcast& upcast) {
  std::uint64_t folded = 0;
  std::optional<Error> error;
  auto apply = [&](const StoredEvent& stored) -> Result<void> {
    for (std::size_t t = 0; t < targets.size(); ++t) {
      auto applied = targets[t]->apply(*stores[t], stored);
      if (!applied) {
        Error e = applied.error();
        e.message = fmt::format("event {} does not fold into {}: {}", stored.event.position, targets[t]->name, e.message);
        return fail(std::move(e));
      }
    }
    return {};
  };
  auto scanned = log.scan(txn, from, [&](const StoredEvent& stored) {
    if (to != 0 && stored.event.position > to) return false;
    Result<void> applied;
    if (upcast) {
      StoredEvent shaped = stored;
      applied = upcast(shaped.event);
      if (applied) applied = apply(shaped);
    } else {
      applied = apply(stored);
    }
    if (!applied) error = applied.error();
    ++folded;
    return applied.has_value();
  });
  if (!scanned) return fail(scanned.error());
  if (error) return fail(*error);
  return folded;
}

Result<RebuildReport> rebuild(Log& log, const std::vector<RebuildTarget>& targets, const RebuildOptions& options) {
  if (log.read_only()) return fail(Error::framework(fmt::format("{} is open read-only; a rebuild writes", log.path())));
  auto tables = open_tables(log, targets);  // before any write transaction: opening one writes
  if (!tables) return fail(tables.error());
  std::string print = fingerprint(targets, options.fingerprint);
  RebuildReport report;
  for (bool first = true;; first = false) {
    Batch batch;
    auto written = log.write([&](Txn& txn) -> Result<void> {
      ASHLAR_TRY(b, run_batch(log, txn, targets, *tables, options, print));
      batch = *b;
      return {};
    });
    if (!written) return fail(written.error());
    if (first) report.resumed_from = batch.resumed_from;
    report.events += batch.events;
    report.position = batch.position;
    report.complete = batch.complete;
    bool go_on = !options.progress || options.progress({batch.position, batch.head, report.resumed_from});
    if (batch.complete || !go_on) return report;
  }
}

Result<std::optional<std::uint64_t>> rebuild_checkpoint(const Log& log, const Txn& txn) {
  ASHLAR_TRY(stored, log.get_meta(txn, kCheckpointKey));
  if (!*stored || (*stored)->size() < 8) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>{read_be64(**stored)};
}

}  // namespace ashlar
