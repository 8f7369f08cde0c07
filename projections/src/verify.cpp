#include <ashlar/projections/verify.hpp>

#include <ashlar/model/resource.hpp>

#include <fmt/format.h>

namespace ashlar {
namespace {

std::string hex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes.substr(0, 48)) out += {kHex[b >> 4], kHex[b & 0xF]};
  return bytes.size() > 48 ? out + "..." : out;
}

// "Ticket 6f1c..." for a record table's entry, from whichever side decodes.
std::optional<std::string> record_name(std::string_view table, const TableDifference& d, const Domain* domain) {
  if (!domain || table.substr(0, 4) != "rec/") return std::nullopt;
  const Resource* r = domain->resource(table.substr(4));
  if (!r) return std::nullopt;
  for (const auto* bytes : {&d.right, &d.left}) {
    if (!*bytes) continue;
    auto record = decode_record(**bytes);
    if (!record) continue;
    std::string id;
    for (auto i : r->primary_key()) {
      const Value* v = find_field(record->attributes, r->attributes()[i].name);
      id += (id.empty() ? "" : ", ") + (v ? v->str() : std::string("nil"));
    }
    return fmt::format("the {} record {}", r->name(), id);
  }
  return std::nullopt;
}

std::string describe(const TableSpec& table, const TableDifference& d, const Domain* domain) {
  std::string what = record_name(table.name, d, domain).value_or("the entry " + hex(d.key));
  if (!d.left) return fmt::format("{}: {} is missing (a replay of the log has it)", table.name, what);
  if (!d.right) return fmt::format("{}: {} is not in a replay of the log", table.name, what);
  return fmt::format("{}: {} differs from a replay of the log", table.name, what);
}

struct Replay {
  std::vector<std::unique_ptr<MemoryStore>> stores;
  std::optional<std::string> broken;  // why the replay stopped
  std::uint64_t folded = 0;           // events that decoded, the only ones Log::check visits
};

void fold_one(const std::vector<RebuildTarget>& targets, Replay& replay, const Upcast& upcast, const StoredEvent& e) {
  ++replay.folded;
  if (replay.broken) return;
  const StoredEvent* shaped = &e;
  StoredEvent copy;
  if (upcast) {
    copy = e;
    auto reshaped = upcast(copy.event);
    if (!reshaped) {
      replay.broken = reshaped.error().message;
      return;
    }
    shaped = &copy;
  }
  for (std::size_t t = 0; t < targets.size(); ++t) {
    auto applied = targets[t].apply(*replay.stores[t], *shaped);
    if (!applied) {
      replay.broken = fmt::format("event {} does not fold into {}: {}", e.event.position, targets[t].name,
                                  applied.error().message);
      return;
    }
  }
}

// The stored model's versions, decoded, to check each event against the one it was
// written under.
struct Models {
  std::vector<std::pair<std::uint64_t, Domain>> versions;  // (since, domain), oldest first
  std::vector<std::uint64_t> numbers;
  bool misfit = false;  // one event that does not fit is reported; the rest would repeat it
  bool complete = true;  // every version decodes, so each event is checked against its own

  void load(const Log& log, const Txn& txn, std::vector<std::string>& problems) {
    auto stored = log.models(txn);
    if (!stored) return problems.push_back("the stored model: " + stored.error().message);
    for (const auto& m : *stored) {
      auto domain = domain_from_json(m.json);
      if (!domain) {
        problems.push_back(fmt::format("the stored model version {} does not decode: {}", m.version,
                                       domain.error().message));
        complete = false;
        continue;
      }
      versions.emplace_back(m.since, std::move(*domain));
      numbers.push_back(m.version);
    }
    auto current = log.model(txn);
    if (!current) return problems.push_back("the stored model: " + current.error().message);
    if (*current && !stored->empty() && **current != stored->back().json)
      problems.push_back(fmt::format("the stored model (meta/model) is not its latest version, {}: one of them was "
                                     "changed",
                                     stored->back().version));
  }

  // The first event whose resource or attributes its model does not have.
  void fit(const Event& e, std::vector<std::string>& problems) {
    if (misfit || !complete) return;
    std::size_t i = versions.size();
    while (i > 0 && versions[i - 1].first > e.position) --i;
    if (i == 0) return;  // written before any model was stored
    const Resource* r = versions[i - 1].second.resource(e.resource);
    std::string why;
    if (!r) why = fmt::format("{} is not a resource", e.resource);
    for (const Fields* fields : {&e.key, &e.changes})
      for (const auto& [name, value] : *fields)
        if (r && why.empty() && !r->attribute(name)) why = fmt::format("{} has no attribute {}", e.resource, name);
    if (why.empty()) return;
    misfit = true;
    problems.push_back(fmt::format("event {} does not fit the model it was written under (version {}): {}",
                                   e.position, numbers[i - 1], why));
  }
};

}  // namespace

Result<VerifyReport> verify(Log& log, const std::vector<RebuildTarget>& targets, const VerifyOptions& options,
                            const Domain* domain) {
  if (options.deep) ASHLAR_TRY_VOID(log.check_pages());
  std::vector<std::vector<Db>> live;
  for (const auto& t : targets) {
    std::vector<Db> dbs;
    for (const auto& spec : t.tables) {
      ASHLAR_TRY(db, log.database(spec.name, spec.dupsort));
      dbs.push_back(*db);
    }
    live.push_back(std::move(dbs));
  }
  ASHLAR_TRY(txn, log.read());
  ASHLAR_TRY(head, log.head(*txn));
  Replay replay;
  for (const auto& t : targets) replay.stores.push_back(std::make_unique<MemoryStore>(t.tables));
  std::vector<std::string> model_problems;
  Models models;
  models.load(log, *txn, model_problems);
  LogCheckOptions check{options.chain_key, options.expect_position, options.expect_hash,
                        [&](const StoredEvent& e) {
                          models.fit(e.event, model_problems);
                          fold_one(targets, replay, options.upcast, e);
                        },
                        [&](std::uint64_t position) {
                          if (options.progress) options.progress(position, head->position);
                        }};
  ASHLAR_TRY(checked, log.check(*txn, check));
  VerifyReport report{checked->head, checked->events, std::move(checked->problems)};
  report.problems.insert(report.problems.end(), model_problems.begin(), model_problems.end());
  // A replay without the events that do not decode (each already a problem) would blame
  // the projections for what the log lost.
  if (!replay.broken && replay.folded < checked->events) {
    std::uint64_t missing = checked->events - replay.folded;
    replay.broken = fmt::format("{} of the {} events {} not decode", missing, checked->events,
                                missing == 1 ? "does" : "do");
  }
  if (replay.broken) {
    report.problems.push_back("the projections were not compared: " + *replay.broken);
    return report;
  }
  for (std::size_t t = 0; t < targets.size(); ++t) {
    LmdbStore tables(*txn, live[t], targets[t].tables);
    for (std::size_t i = 0; i < targets[t].tables.size(); ++i) {
      ASHLAR_TRY(diff, compare_table(tables, i, *replay.stores[t], i));
      if (*diff) report.problems.push_back(describe(targets[t].tables[i], **diff, domain));
    }
  }
  return report;
}

}  // namespace ashlar
