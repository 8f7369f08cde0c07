#include "replay.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar::runtime {
namespace {

// What the store holds about its models, read in one snapshot.
struct Stored {
  std::vector<StoredModel> models;
  std::vector<UpcasterRecord> upcasters;
  std::uint64_t head = 0;
};

Result<Stored> read_stored(const Log& log) {
  ASHLAR_TRY(txn, log.read());
  Stored out;
  ASHLAR_TRY(models, log.models(*txn));
  out.models = std::move(*models);
  ASHLAR_TRY(upcasters, log.get_meta(*txn, kUpcastersKey));
  if (*upcasters) out.upcasters = upcasters_from_json(**upcasters);
  ASHLAR_TRY(head, log.head(*txn));
  out.head = head->position;
  return out;
}

bool declared(const std::vector<Upcaster>& upcasters, std::string_view name) {
  return std::any_of(upcasters.begin(), upcasters.end(), [&](const Upcaster& u) { return u.name == name; });
}

// Every problem with the model and the upcasters at once.
std::vector<FieldError> problems(const Stored& stored, const Domain& domain, const std::string& json,
                                 const std::vector<Upcaster>& upcasters, std::uint64_t version) {
  std::vector<FieldError> out;
  for (const auto& r : stored.upcasters)
    if (!declared(upcasters, r.name))
      out.push_back({"", "missing_upcaster",
                     fmt::format("the projections were folded with upcaster {} ({}, up to model version {}); declare "
                                 "it in Options::upcasters",
                                 r.name, r.resource, r.model_version)});
  for (const auto& u : upcasters)
    if (u.name.empty() || !u.reshape || u.model_version >= version)
      out.push_back({u.name, "invalid_upcaster",
                     fmt::format("upcaster {} must have a name and code, and reshape events of a model version "
                                 "before this one ({}), not {}",
                                 u.name, version, u.model_version)});
  if (stored.models.empty() || stored.models.back().json == json) return out;
  auto old = domain_from_json(stored.models.back().json);
  if (!old) {
    out.push_back({"", "incompatible_model", old.error().message});
    return out;
  }
  for (auto& i : model_incompatibilities(*old, domain)) {
    bool covered = !i.resource.empty() && std::any_of(upcasters.begin(), upcasters.end(), [&](const Upcaster& u) {
      return u.resource == i.resource && u.model_version + 1 == version;
    });
    if (!covered) out.push_back({"", "incompatible_model", std::move(i.message)});
  }
  return out;
}

// True when a resource both models have keeps different indexes or identities.
bool layout_changed(const Domain& before, const Domain& after) {
  for (const auto& r : after.resources()) {
    const Resource* old = before.resource(r.name());
    if (!old) continue;
    if (old->indexed_attributes() != r.indexed_attributes() || old->identities().size() != r.identities().size())
      return true;
    for (std::size_t i = 0; i < r.identities().size(); ++i)
      if (old->identities()[i].name != r.identities()[i].name ||
          old->identities()[i].attributes != r.identities()[i].attributes)
        return true;
  }
  return false;
}

// The model change needs the projections rebuilt: new tables over stored records,
// backfilled defaults, or new upcasters.
Result<bool> needs_migration(const Stored& stored, const std::string& json, const std::vector<Upcaster>& upcasters) {
  for (const auto& u : upcasters)
    if (std::none_of(stored.upcasters.begin(), stored.upcasters.end(),
                     [&](const UpcasterRecord& r) { return r.name == u.name; }))
      return true;
  if (stored.models.empty() || stored.models.back().json == json) return false;
  ASHLAR_TRY(before, domain_from_json(stored.models.back().json));
  ASHLAR_TRY(after, domain_from_json(json));
  if (layout_changed(*before, *after)) return true;
  return has_backfill({stored.models.back(), StoredModel{stored.models.back().version + 1, 0, json}});
}

}  // namespace

Result<Replay> Replay::install_model(Log& log, const Domain& domain, const std::vector<Upcaster>& declared,
                                     const ModelSource& source) {
  ASHLAR_TRY(stored, read_stored(log));
  std::string json = source.json.empty() ? domain_to_json(domain) : source.json;
  bool changed = stored->models.empty() || stored->models.back().json != json;
  std::uint64_t version = stored->models.empty() ? 1 : stored->models.back().version + (changed ? 1 : 0);
  std::vector<Upcaster> upcasters;
  for (const auto& u : declared)
    if (!source.later_upcasters_wait || u.model_version < version) upcasters.push_back(u);
  auto found = problems(*stored, domain, json, upcasters, version);
  if (!found.empty()) {
    Error e = Error::framework(fmt::format("the model does not fit the store at {}", log.path()));
    e.fields = std::move(found);
    return fail(std::move(e));
  }
  ASHLAR_TRY(migrate, needs_migration(*stored, json, upcasters));
  Replay replay;
  replay.model_version_ = version;
  std::vector<UpcasterRecord> records;
  for (const auto& u : upcasters) records.push_back({u.name, u.resource, u.model_version});
  // The model and upcasters to record: now, or with the rebuilt projections they need,
  // so a failed or interrupted migration leaves the store as it was.
  replay.pending_ = [&log, json, changed, records, old = stored->upcasters](Txn& txn) -> Result<void> {
    if (changed) ASHLAR_TRY_VOID(log.put_model(txn, json));
    if (records != old) ASHLAR_TRY_VOID(log.put_meta(txn, kUpcastersKey, upcasters_to_json(records)));
    return {};
  };
  std::vector<StoredModel> models = stored->models;
  if (changed) models.push_back({version, stored->head + 1, json});
  ASHLAR_TRY(upcast, make_upcast(models, upcasters));
  replay.upcast_ = std::move(*upcast);
  replay.migrate_ = *migrate && stored->head > 0;
  if (!replay.migrate_) {
    ASHLAR_TRY(written, log.write(replay.pending_));
    replay.pending_ = {};
  }
  return replay;
}

Result<void> Replay::open(Log& log, const StateProjection& state, std::vector<std::shared_ptr<Projection>> projections,
                          std::vector<RebuildTarget> extra) {
  if (!projections.empty()) {
    ASHLAR_TRY(set, ProjectionSet::open(log, std::move(projections), upcast_));
    projections_ = std::move(*set);
  }
  if (!migrate_) return {};
  auto rebuilt = rebuild(log, state, {.on_swap = pending_}, {}, std::move(extra));
  if (!rebuilt) {
    Error e = rebuilt.error();
    e.message = fmt::format("the projections do not rebuild for model version {}, so the store keeps its model: {}",
                            model_version_, e.message);
    return fail(std::move(e));
  }
  migrate_ = false;
  pending_ = {};
  return {};
}

std::vector<RebuildTarget> Replay::targets(const StateProjection& state) const {
  std::vector<RebuildTarget> out{state.target()};
  if (projections_)
    for (auto& t : projections_->targets()) out.push_back(std::move(t));
  return out;
}

Result<RebuildReport> Replay::rebuild(Log& log, const StateProjection& state, RebuildOptions options,
                                      std::string_view only, std::vector<RebuildTarget> extra) {
  std::vector<RebuildTarget> chosen;
  if (only.empty()) {
    chosen = targets(state);
    for (auto& t : extra) chosen.push_back(std::move(t));
  } else {
    if (!projections_) return fail(Error::framework(fmt::format("no projection is named {}", only)));
    ASHLAR_TRY(target, projections_->target(only));
    chosen.push_back(std::move(*target));
  }
  options.upcast = upcast_;
  options.fingerprint = fmt::format("model {}", model_version_);
  if (!options.on_swap) options.on_swap = pending_;  // a migration under way completes with any full rebuild
  auto report = ashlar::rebuild(log, chosen, options);
  if (report && report->complete && projections_) projections_->rebuilt();
  return report;
}

Result<Installed> install(Log& log, const Domain& domain, const std::vector<Upcaster>& upcasters,
                          std::vector<std::shared_ptr<Projection>> projections, const ModelSource& source) {
  // The stored model decides whether this domain may open the store (upcasters allowing).
  ASHLAR_TRY(replay, Replay::install_model(log, domain, upcasters, source));
  ASHLAR_TRY(state, StateProjection::open(log, domain));
  ASHLAR_TRY(tenants, TenantTables::open(log, domain));
  // A model change that rebuilds the projections rebuilds the tenants' tables with them
  // (a new identity's index must hold every tenant's records before a write checks it).
  TenantTargets tenant_tables;
  if (replay->migrating()) {
    ASHLAR_TRY(found, tenant_targets(log, domain, tenants->get()));
    tenant_tables = std::move(*found);
  }
  ASHLAR_TRY_VOID(replay->open(log, *state, std::move(projections), std::move(tenant_tables.targets)));
  ASHLAR_TRY_VOID((*tenants)->refresh());  // the tenants the rebuild gave tables
  return Installed{std::move(*replay), std::move(*state), std::move(*tenants)};
}

unsigned max_databases(const Domain& domain, const std::vector<std::shared_ptr<Projection>>& projections) {
  std::size_t tables = StateProjection::layout(domain).tables().size();
  for (const auto& p : projections) tables += p->tables().size();
  return static_cast<unsigned>(16 + 2 * tables);
}

}  // namespace ashlar::runtime
