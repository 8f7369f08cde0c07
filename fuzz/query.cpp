// A client's query as the HTTP API hands it to the engine: sort text on the first line,
// filter text after it, read with Query::public_only from a store whose resources have
// private and sensitive attributes and relationships between them. Any input gives a
// page or an Invalid error, never a crash; a page never carries a cursor whose sort has
// a hidden attribute (none can: such a sort is refused), and the library's own read of
// the same query (without public_only) fails or succeeds on its own terms.
#include "fuzz_store.hpp"

#include <ashlar/ashlar.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using namespace ashlar;
using namespace ashlar::dsl;

Domain vault_domain() {
  return domain("fuzz")
      .resource(resource("Owner")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("secret", type::string, {.sensitive = true})
                    .attribute("note", type::string, {.default_value = "private", .is_public = false})
                    .has_many("items", "Item")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Item")
                    .uuid_primary_key("id")
                    .attribute("n", type::integer)
                    .attribute("name", type::string)
                    .attribute("token", type::string, {.sensitive = true})
                    .belongs_to("owner", "Owner")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

const Engine& engine() {
  static const Engine e = [] {
    auto opened = Engine::open(fuzz::store_dir() + "/store", vault_domain(), {.durability = Durability::no_sync});
    fuzz::or_abort(opened ? Result<void>() : Result<void>(opened.error()), "open");
    auto owner = [&](const char* name, const char* secret) {
      auto created = opened->create("Owner", {{"name", name}, {"secret", secret}});
      fuzz::or_abort(created ? Result<void>() : Result<void>(created.error()), "create");
      return created->id();
    };
    Value ann = owner("ann", "a-secret"), bob = owner("bob", "b-secret");
    const Fields items[] = {{{"n", 1}, {"name", "one"}, {"token", "t1"}, {"owner_id", ann}},
                            {{"n", 2}, {"name", "two"}, {"token", "t2"}, {"owner_id", bob}},
                            {{"n", 3}, {"name", "three"}, {"owner_id", ann}},
                            {{"name", "none"}}};
    for (const auto& inputs : items) {
      auto created = opened->create("Item", inputs);
      fuzz::or_abort(created ? Result<void>() : Result<void>(created.error()), "create");
    }
    return std::move(*opened);
  }();
  return e;
}

void check(const Result<std::vector<Record>>& page, const char* who) {
  if (!page && page.error().cls != ErrorClass::invalid) {
    std::fprintf(stderr, "%s: a query gave a non-Invalid error: %s\n", who, page.error().describe().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto newline = text.find('\n');
  std::string_view sort_text = text.substr(0, newline);
  std::string_view filter_text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  auto sort = parse_sort(sort_text);
  if (!sort) return 0;
  Query q{.sort = std::move(*sort), .limit = 3};
  if (!filter_text.empty()) {
    auto filter = parse_expr(filter_text);
    if (!filter) return 0;
    q.filter = std::move(*filter);
  }
  for (const char* resource : {"Item", "Owner"}) {
    check(engine().read(resource, q), "library");
    Query outside = q;
    outside.public_only = true;
    auto page = engine().read(resource, outside);
    check(page, "public_only");
    if (!page) continue;
    for (const auto& key : q.sort)
      if (key.field.find("secret") != std::string::npos || key.field.find("token") != std::string::npos ||
          key.field.find("note") != std::string::npos)
        for (const auto& record : *page)
          if (!record.cursor().empty() && resolve_path(engine().domain(), record.resource(), key.path())) {
            std::fprintf(stderr, "public_only: a cursor of a sort on %s\n", key.field.c_str());
            std::abort();
          }
  }
  return 0;
}
