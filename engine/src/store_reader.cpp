// StoreReader: the Engine's reads over a read-only log and its stored model.
#include <ashlar/store_reader.hpp>

#include <ashlar/eventlog/stored_domain.hpp>
#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>
#include <ashlar/projections/upcast.hpp>

#include "audit.hpp"
#include "changeset.hpp"
#include "reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace ashlar {

struct StoreReader::Impl {
  Domain domain;
  std::unique_ptr<Log> log;
  StateProjection state;
  std::shared_ptr<TenantTables> tenants;  // context multitenancy: each tenant's own tables
  // "Resource.relationship" of each manual relationship: the stored model keeps its
  // name and destination, while domain_from_json gives it a filter that relates nothing.
  std::set<std::string, std::less<>> manual;
  // What the stored models imply for past states (backfilled defaults; declared
  // upcasters are code this program lacks).
  Upcast upcast;

  Result<const Resource*> resource(std::string_view name) const;
  // Invalid when the query (its action's filter, its own filter and sort, its loads and
  // theirs) would load or follow a manual relationship.
  Result<void> check_manual(const Resource& r, const Query& q) const;
  // The manual relationship that `path` (relationships, then perhaps an attribute or an
  // aggregate) goes through from r, as "Resource.relationship".
  std::optional<std::string> manual_on(const Resource& r, const std::vector<std::string>& path) const;
  void manual_in(const Resource& r, const Query& q, const Action* action, std::set<std::string>& found) const;
};

namespace {

std::set<std::string, std::less<>> manual_relationships(const std::string& model_json) {
  std::set<std::string, std::less<>> out;
  auto doc = nlohmann::json::parse(model_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("resources")) return out;  // domain_from_json has accepted it
  for (const auto& r : doc["resources"])
    for (const auto& rel : r.value("relationships", nlohmann::json::array()))
      if (rel.value("manual", false))
        out.insert(r.value("name", "") + "." + rel.value("name", ""));
  return out;
}

}  // namespace

Result<StoreReader> StoreReader::open(const std::string& path) {
  ASHLAR_TRY(log, Log::open_read_only(path));
  ASHLAR_TRY(domain, stored_domain(**log));
  ASHLAR_TRY(state, StateProjection::open(**log, *domain));
  auto impl = std::make_unique<Impl>();
  impl->domain = std::move(*domain);
  impl->log = std::move(*log);
  impl->state = std::move(*state);
  ASHLAR_TRY(tenants, TenantTables::open(*impl->log, impl->domain));
  impl->tenants = std::move(*tenants);
  {
    ASHLAR_TRY(txn, impl->log->read());
    ASHLAR_TRY(json, impl->log->model(*txn));
    impl->manual = manual_relationships(json->value_or(""));
    ASHLAR_TRY(models, impl->log->models(*txn));
    ASHLAR_TRY(upcast, make_upcast(*models, {}));
    impl->upcast = std::move(*upcast);
  }
  return StoreReader(std::move(impl));
}

StoreReader::StoreReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreReader::StoreReader(StoreReader&&) noexcept = default;
StoreReader& StoreReader::operator=(StoreReader&&) noexcept = default;
StoreReader::~StoreReader() = default;

const Domain& StoreReader::domain() const { return impl_->domain; }
const Log& StoreReader::log() const { return *impl_->log; }

Result<const Resource*> StoreReader::Impl::resource(std::string_view name) const {
  if (const Resource* r = domain.resource(name)) return r;
  return fail(Error::framework(fmt::format("domain {} has no resource named {}", domain.name(), name)));
}

std::optional<std::string> StoreReader::Impl::manual_on(const Resource& r, const std::vector<std::string>& path) const {
  const Resource* at = &r;
  for (const auto& segment : path) {
    if (const Aggregate* a = at->aggregate(segment)) return manual_on(*at, a->path);
    const Relationship* rel = at->relationship(segment);
    if (!rel) return std::nullopt;  // an attribute ends the path; anything unknown the read reports
    std::string name = at->name() + "." + rel->name;
    if (manual.contains(name)) return name;
    at = domain.resource(rel->destination);
    if (!at) return std::nullopt;
  }
  return std::nullopt;
}

void StoreReader::Impl::manual_in(const Resource& r, const Query& q, const Action* action,
                                  std::set<std::string>& found) const {
  auto note = [&](const std::vector<std::string>& path) {
    if (auto name = manual_on(r, path)) found.insert(*name);
  };
  for (const auto* filter : {action && action->filter ? &*action->filter : nullptr, q.filter ? &*q.filter : nullptr}) {
    if (!filter) continue;
    visit_refs(*filter, [&](const std::vector<std::string>& path, bool under_parent) {
      if (!under_parent) note(path);
    });
    visit_aggregates(*filter, [&](const Aggregate& a, bool under_parent) {
      if (!under_parent) note(a.path);
    });
  }
  for (const auto& key : q.sort) note(key.path());
  for (const auto& load : q.load) {
    note({load.name});
    const Relationship* rel = r.relationship(load.name);
    const Resource* dest = rel ? domain.resource(rel->destination) : nullptr;
    if (dest) manual_in(*dest, load.query, nullptr, found);
  }
}

Result<void> StoreReader::Impl::check_manual(const Resource& r, const Query& q) const {
  if (manual.empty()) return {};
  const Action* action = q.action.empty() ? r.primary_action(ActionType::read) : r.action(q.action);
  std::set<std::string> found;
  manual_in(r, q, action, found);
  if (found.empty()) return {};
  std::vector<FieldError> errors;
  for (const auto& name : found)
    errors.push_back({"load", "manual_relationship",
                      fmt::format("{} is a manual relationship: its code is in the program that declared it, "
                                  "not in the stored model, so a read-only store cannot load it",
                                  name)});
  return fail(Error::invalid(r.name(), action ? action->name : q.action, std::move(errors)));
}

Result<std::vector<Record>> StoreReader::read(std::string_view resource_name, const Query& query) const {
  ASHLAR_TRY(r, impl_->resource(resource_name));
  ASHLAR_TRY_VOID(impl_->check_manual(**r, query));
  return runtime::read_records(impl_->domain, *impl_->log, impl_->state, impl_->tenants.get(), impl_->upcast, **r, query);
}

// As Engine::get, without its direct lookup: a read whose filter pins the primary key.
Result<Record> StoreReader::get(std::string_view resource_name, const Value& id, const Query& query) const {
  ASHLAR_TRY(r, impl_->resource(resource_name));
  ASHLAR_TRY(plan, runtime::plan_get(**r, id, query));
  return runtime::found_one(*impl_->log, **r, *plan, query,
                            read(resource_name, runtime::pinned_query(**r, plan->key, query)));
}

}  // namespace ashlar
