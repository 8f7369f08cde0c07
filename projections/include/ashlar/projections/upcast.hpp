#pragma once
// Upcasting: events keep the shape their model had when they were written; folds,
// history and time travel see them in the current model's shape.
//
// Two kinds of step, applied in model-version order to an event written under version v:
// - declared upcasters (code) for resource R with model_version >= v;
// - the backfill the stored models imply: an attribute added with a constant default in
//   version k+1 is set to that default by every create written under version <= k
//   (what the record would have held). A default computed by a function cannot be
//   replayed, so such attributes stay nil in older records.

#include <ashlar/model/export.hpp>
#include <ashlar/projections/rebuild.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ashlar {

// Reshapes the events of one resource written under model versions up to model_version
// into the shape of the version after it: rename or drop attributes, convert values.
// The name is recorded in the store, and every later open must declare it again.
struct ASHLAR_API Upcaster {
  std::string name{};
  std::string resource{};
  std::uint64_t model_version = 0;
  std::function<Result<void>(Event&)> reshape{};
};

// An upcaster's name, resource and version as the store records them (meta "upcasters").
struct ASHLAR_API UpcasterRecord {
  std::string name;
  std::string resource;
  std::uint64_t model_version = 0;
  bool operator==(const UpcasterRecord&) const = default;
};
// The meta key the records are stored under.
inline constexpr std::string_view kUpcastersKey = "upcasters";
ASHLAR_API std::string upcasters_to_json(const std::vector<UpcasterRecord>& records);
ASHLAR_API std::vector<UpcasterRecord> upcasters_from_json(std::string_view json);

// The model version an event at `position` was written under.
ASHLAR_API std::uint64_t model_version_at(const std::vector<StoredModel>& models, std::uint64_t position);

// The upcast for a store's events: `upcasters` plus the backfill the stored models imply.
// Empty (no work at all) when no event needs reshaping. Framework when a stored model
// does not decode.
ASHLAR_API Result<Upcast> make_upcast(const std::vector<StoredModel>& models, const std::vector<Upcaster>& upcasters);

// True when models imply a backfill (a constant default added to a resource that existed).
ASHLAR_API Result<bool> has_backfill(const std::vector<StoredModel>& models);

}  // namespace ashlar
