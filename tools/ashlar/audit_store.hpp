#pragma once
// What rebuild, verify, history and state need beyond store.hpp: opening a store for
// writing, and what of it the command line cannot replay because it is C++ code in the
// program that writes the store (custom projections, declared upcasters).

#include "store.hpp"

#include <ashlar/projections/rebuild.hpp>

#include <string>
#include <vector>

namespace ashlar::cli {

// Opens an existing store for writing: the writer lock, then the stored model. Conflict
// when a running engine (or another command) has it; Framework when `dir` is not a store.
Result<Store> open_store_for_writing(const std::string& dir);

struct Replayable {
  std::uint64_t model_version = 1;
  Upcast upcast;  // what the stored models imply (constant defaults of added attributes)
  std::vector<std::string> custom_projections;  // names, from their checkpoints
  std::vector<std::string> upcasters;           // "name (Resource, up to model version N)"
};
Result<Replayable> replayable(const Store& store);

// A record's primary key from the command line: the value as text ("42", a uuid, ...),
// or a JSON object of the key attributes for a composite key
// ('{"scope": "blog", "name": "c++"}'). The value to pass to reads: one value, or a map.
// Invalid naming the key attribute when it does not cast.
Result<Value> parse_id(const Resource& resource, const std::string& text);

// "custom projections activity, mentions (C++ code: the program that defines them rebuilds
// and verifies them through Engine::rebuild and Engine::verify)", or empty.
std::string skipped_projections(const Replayable& r);

}  // namespace ashlar::cli
