#include "audit_store.hpp"

#include <ashlar/eventlog/stored_domain.hpp>
#include <ashlar/projections/projection_set.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/projections/upcast.hpp>

#include <fmt/format.h>

#include <filesystem>

namespace ashlar::cli {

Result<Store> open_store_for_writing(const std::string& dir) {
  {
    auto readable = open_store(dir);  // refuses what is not a store, before Log::open would create one
    if (!readable) return fail(readable.error());
  }
  LogOptions options;
  options.max_databases = 4096;  // the live tables and their staging copies
  auto log = Log::open(dir, options);
  if (!log && log.error().cls == ErrorClass::conflict) {
    Error e = log.error();
    e.message += "; stop the program that writes it first, or rebuild through it (Engine::rebuild)";
    return fail(std::move(e));
  }
  if (!log) return fail(log.error());
  ASHLAR_TRY(domain, stored_domain(**log));
  return Store{dir, std::move(*log), std::move(*domain)};
}

Result<Replayable> replayable(const Store& store) {
  ASHLAR_TRY(txn, store.log->read());
  Replayable out;
  ASHLAR_TRY(models, store.log->models(*txn));
  if (!models->empty()) out.model_version = models->back().version;
  ASHLAR_TRY(upcast, make_upcast(*models, {}));
  out.upcast = std::move(*upcast);
  std::string prefix = ProjectionSet::checkpoint_key("");
  auto scanned = store.log->scan_meta(*txn, prefix, [&](std::string_view key, std::string_view) {
    out.custom_projections.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!scanned) return fail(scanned.error());
  ASHLAR_TRY(declared, store.log->get_meta(*txn, kUpcastersKey));
  if (*declared)
    for (const auto& u : upcasters_from_json(**declared))
      out.upcasters.push_back(fmt::format("{} ({}, up to model version {})", u.name, u.resource, u.model_version));
  return out;
}

Result<Value> parse_id(const Resource& r, const std::string& text) {
  auto bad = [&](const std::string& field, const std::string& why) {
    return fail(Error::invalid(r.name(), {}, {{field, "invalid_id", why}}));
  };
  if (r.primary_key().size() == 1) {
    const Attribute& a = r.attributes()[r.primary_key()[0]];
    auto cast = cast_value(a.type, Value(text));
    if (!cast.value) {
      auto json = nlohmann::json::parse(text, nullptr, false);
      if (!json.is_discarded()) cast = cast_json(a.type, json);
    }
    if (!cast.value) return bad(a.name, fmt::format("{} is not a {} ({})", text, a.type.name(), cast.error));
    return *cast.value;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object())
    return bad("id", fmt::format("{} has a composite key: give it as a JSON object of its key attributes", r.name()));
  Map key;
  for (auto i : r.primary_key()) {
    const Attribute& a = r.attributes()[i];
    if (!json.contains(a.name)) return bad(a.name, "is part of the key and missing");
    auto cast = cast_json(a.type, json[a.name]);
    if (!cast.value) return bad(a.name, cast.error);
    key.emplace_back(a.name, *cast.value);
  }
  return Value(std::move(key));
}

std::string skipped_projections(const Replayable& r) {
  if (r.custom_projections.empty()) return {};
  return fmt::format("custom projections {} (C++ code: the program that defines them rebuilds and verifies them "
                     "through Engine::rebuild and Engine::verify)",
                     fmt::join(r.custom_projections, ", "));
}

}  // namespace ashlar::cli
