#pragma once
// A small store the store-reading targets share: an Item resource with a key of every
// common type, a few records, written by the engine into a fresh temporary directory
// that is removed when the fuzzer exits.

#include <ashlar/ashlar.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace ashlar::fuzz {

inline Domain item_domain() {
  using namespace ashlar::dsl;
  return domain("fuzz")
      .resource(resource("Item")
                    .uuid_primary_key("id")
                    .attribute("n", type::integer)
                    .attribute("name", type::string)
                    .attribute("score", type::floating)
                    .attribute("tag", type::atom)
                    .attribute("at", type::utc_datetime)
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build();
}

inline const std::string& store_dir() {
  static const std::string dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "ashlar-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] { std::filesystem::remove_all(store_dir()); });
    return pattern;
  }();
  return dir;
}

template <typename T>
T or_abort(Result<T> result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "%s: %s\n", what, result.error().describe().c_str());
    std::abort();
  }
  return std::move(*result);
}

// Opens the engine on store_dir() with `options` and writes the records, once.
inline Engine open_item_store(Options options) {
  options.durability = Durability::no_sync;
  Engine engine = or_abort(Engine::open(store_dir() + "/store", item_domain(), std::move(options)), "open");
  const Fields items[] = {
      {{"n", 1}, {"name", "one"}, {"score", 0.5}, {"tag", Atom{"a"}}, {"at", DateTime{1700000000000000}}},
      {{"n", 2}, {"name", "two"}, {"score", -1.0}, {"tag", Atom{"b"}}},
      {{"n", 2}, {"name", "zwei"}, {"tag", Atom{"a"}}, {"at", DateTime{1600000000000000}}},
      {{"name", "none"}},
      {{"n", 3}, {"name", "three"}, {"score", 1e9}, {"tag", Atom{"c"}}, {"at", DateTime{0}}},
  };
  for (const auto& inputs : items) or_abort(engine.create("Item", inputs), "create");
  return engine;
}

}  // namespace ashlar::fuzz
