#include <ashlar/projections/upcast.hpp>

#include <ashlar/model/json.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

// One step of reshaping: a declared upcaster, or a backfilled default.
struct ReshapeStep {
  std::uint64_t model_version = 0;  // applies to events written under this version or earlier
  std::string resource;
  std::function<Result<void>(Event&)> reshape;
};

std::vector<ReshapeStep> backfills(const Domain& before, const Domain& after, std::uint64_t version) {
  std::vector<ReshapeStep> out;
  for (const auto& r : after.resources()) {
    const Resource* old = before.resource(r.name());
    if (!old) continue;  // a new resource has no older events
    for (const auto& a : r.attributes()) {
      if (old->attribute(a.name) || a.default_value.is_null()) continue;
      out.push_back({version, r.name(), [name = a.name, value = a.default_value](Event& e) -> Result<void> {
                       if (e.type == ActionType::create && !find_field(e.changes, name))
                         e.changes.emplace_back(name, value);
                       return {};
                     }});
    }
  }
  return out;
}

Result<std::vector<ReshapeStep>> model_steps(const std::vector<StoredModel>& models) {
  std::vector<ReshapeStep> out;
  std::optional<Domain> previous;
  for (const auto& m : models) {
    ASHLAR_TRY(domain, domain_from_json(m.json));
    if (previous)
      for (auto& step : backfills(*previous, *domain, m.version - 1)) out.push_back(std::move(step));
    previous = std::move(*domain);
  }
  return out;
}

}  // namespace

std::string upcasters_to_json(const std::vector<UpcasterRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records)
    out.push_back({{"name", r.name}, {"resource", r.resource}, {"model_version", r.model_version}});
  return out.dump();
}

std::vector<UpcasterRecord> upcasters_from_json(std::string_view json) {
  std::vector<UpcasterRecord> out;
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_array()) return out;
  for (const auto& j : doc)
    if (j.is_object())
      out.push_back({j.value("name", ""), j.value("resource", ""), j.value("model_version", std::uint64_t{0})});
  return out;
}

std::uint64_t model_version_at(const std::vector<StoredModel>& models, std::uint64_t position) {
  std::uint64_t version = models.empty() ? 1 : models.front().version;
  for (const auto& m : models)
    if (m.since <= position) version = m.version;
  return version;
}

Result<bool> has_backfill(const std::vector<StoredModel>& models) {
  ASHLAR_TRY(steps, model_steps(models));
  return !steps->empty();
}

Result<Upcast> make_upcast(const std::vector<StoredModel>& models, const std::vector<Upcaster>& upcasters) {
  ASHLAR_TRY(implied, model_steps(models));
  std::vector<ReshapeStep> declared;
  for (const auto& u : upcasters) declared.push_back({u.model_version, u.resource, u.reshape});
  auto steps = &declared;
  for (auto& step : *implied) declared.push_back(std::move(step));
  if (steps->empty()) return Upcast{};
  // Declared upcasters of a version run before that version's backfill: they map the
  // older shape, which the backfill then completes.
  std::stable_sort(steps->begin(), steps->end(), [](const ReshapeStep& a, const ReshapeStep& b) { return a.model_version < b.model_version; });
  std::uint64_t newest = 0;
  for (const auto& s : *steps) newest = std::max(newest, s.model_version);
  return Upcast([steps = std::move(*steps), models, newest](Event& e) -> Result<void> {
    std::uint64_t version = model_version_at(models, e.position);
    if (version > newest) return {};  // the common case: written under a current model
    for (const auto& step : steps) {
      if (step.model_version < version || step.resource != e.resource) continue;
      auto reshaped = step.reshape(e);
      if (!reshaped) {
        Error err = reshaped.error();
        err.message = fmt::format("upcasting event {}: {}", e.position, err.message);
        return fail(std::move(err));
      }
    }
    return {};
  });
}

}  // namespace ashlar
