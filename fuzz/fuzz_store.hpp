#pragma once
// A small store the store-reading targets share: an Item resource with attributes of the
// common types, its model stored and a few events appended through the log, in a fresh
// temporary directory removed when the fuzzer exits.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/dsl.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
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
      .build()
      .value();
}

// Never freed: the exit handler that removes the directory runs after static destructors.
inline const std::string& store_dir() {
  static const std::string* dir = [] {
    auto* pattern = new std::string((std::filesystem::temp_directory_path() / "ashlar-fuzz-XXXXXX").string());
    if (!mkdtemp(pattern->data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::atexit([] { std::filesystem::remove_all(store_dir()); });
    return pattern;
  }();
  return *dir;
}

inline void or_abort(const Result<void>& result, const char* what) {
  if (!result) {
    std::fprintf(stderr, "%s: %s\n", what, result.error().describe().c_str());
    std::abort();
  }
}

// The log of store_dir()/store, with the model and five events (four creates, an update).
inline std::unique_ptr<Log> open_item_log() {
  auto log = Log::open(store_dir() + "/store", {.durability = Durability::no_sync});
  if (!log) {
    std::fprintf(stderr, "open: %s\n", log.error().describe().c_str());
    std::abort();
  }
  std::string model = domain_to_json(item_domain());
  or_abort((*log)->write([&](Txn& txn) -> Result<void> {
    if (auto put = (*log)->put_model(txn, model); !put) return put;
    const Fields changes[] = {
        {{"n", 1}, {"name", "one"}, {"score", 0.5}, {"tag", Atom{"a"}}, {"at", DateTime{1700000000000000}}},
        {{"n", 2}, {"name", "two"}, {"score", -1.0}},
        {{"name", "none"}},
        {{"n", 3}, {"tag", Atom{"c"}}},
        {{"name", "one again"}},
    };
    for (int i = 0; i < 5; ++i) {
      Event e;
      e.domain = "fuzz";
      e.resource = "Item";
      e.action = i < 4 ? "create" : "update";
      e.type = i < 4 ? ActionType::create : ActionType::update;
      e.version = i < 4 ? 1 : 2;
      Uuid id{};
      id.bytes[15] = static_cast<std::uint8_t>(i < 4 ? i + 1 : 1);
      e.key = {{"id", id}};
      e.changes = changes[i];
      e.time_micros = 1700000000000000 + i;
      if (auto appended = (*log)->append(txn, std::move(e)); !appended) return appended.error();
    }
    return {};
  }), "write");
  return std::move(*log);
}

}  // namespace ashlar::fuzz
