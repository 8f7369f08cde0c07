// manage_relationship of 1,000 tag names on one post (half the tags exist, half are new)
// vs the same lookups, creates and join records written by hand through the public API,
// in one transaction each (a generic action with transaction = true), same durability.
//
//   bench_manage [ROUNDS]     (default 5; each round does both, on fresh names)
#include "bench_support.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

using namespace ashlar;
using namespace ashlar::dsl;

namespace {

constexpr int kNames = 1000;

Domain tags_domain() {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  return domain("bench")
      .resource(resource("Tag")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .identity("unique_name", {"name"})
                    .defaults(defaults))
      .resource(resource("PostTag")
                    .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                    .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                    .defaults(defaults))
      .resource(resource("Post")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .many_to_many("tags", "Tag", {.through = "PostTag"})
                    .defaults(defaults)
                    .update("retag", {.arguments = {argument("tags", type::array(type::string))},
                                      .steps = {changes::manage_relationship(
                                          "tags", {.type = manage::Type::append_and_remove,
                                                   .value_is_key = "name",
                                                   .on_lookup = manage::Lookup::relate,
                                                   .on_no_match = manage::NoMatch::create})}})
                    // The same by hand: look each name up, create the tags that are
                    // missing, and a join record for each.
                    .action("tag_by_hand",
                            {.arguments = {argument("post_id", type::uuid), argument("tags", type::array(type::string))},
                             .transaction = true,
                             .run = [](ActionInput& input) -> Result<Value> {
                               Engine& engine = input.engine();
                               const Value post = input.argument("post_id");
                               for (const auto& name : *input.argument("tags").as_array()) {
                                 Value tag_id;
                                 if (auto found = engine.get_by("Tag", "unique_name", {{"name", name}})) {
                                   tag_id = found->id();
                                 } else {
                                   ASHLAR_TRY(made, engine.create("Tag", {{"name", name}}, input.to_opts()));
                                   tag_id = made->id();
                                 }
                                 ASHLAR_TRY(join, engine.create("PostTag", {{"post_id", post}, {"tag_id", tag_id}},
                                                                input.to_opts()));
                               }
                               return Value();
                             }}))
      .build()
      .value();
}

// Names for one round: the first half created beforehand, the second half new.
Array round_names(Engine& engine, const std::string& prefix) {
  Array names;
  for (int i = 0; i < kNames; ++i) names.emplace_back(fmt::format("{}-{}", prefix, i));
  for (int i = 0; i < kNames / 2; ++i) engine.create("Tag", {{"name", names[i]}}).value();
  return names;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rounds = 5;
  if (argc > 2 || (argc == 2 && !bench::parse_count(argv[1], rounds))) {
    std::cerr << "usage: bench_manage [ROUNDS]\n";
    return 2;
  }
  bench::TempDir dir;
  Engine engine = Engine::open(dir.path(), tags_domain()).value();  // durable commits
  double managed = 0, by_hand = 0;
  for (std::size_t r = 0; r < rounds; ++r) {
    {
      Record post = engine.create("Post", {}).value();
      Array names = round_names(engine, fmt::format("m{}", r));
      auto start = std::chrono::steady_clock::now();
      auto done = engine.update("Post", post.id(), {{"tags", Value(names)}}, {.action = "retag"});
      managed += seconds_since(start);
      if (!done) throw std::runtime_error(done.error().describe());
    }
    {
      Record post = engine.create("Post", {}).value();
      Array names = round_names(engine, fmt::format("h{}", r));
      auto start = std::chrono::steady_clock::now();
      auto done = engine.run_action("Post", "tag_by_hand", {{"post_id", post.id()}, {"tags", Value(names)}});
      by_hand += seconds_since(start);
      if (!done) throw std::runtime_error(done.error().describe());
    }
  }
  double per_managed = managed / static_cast<double>(rounds) * 1e3;
  double per_hand = by_hand / static_cast<double>(rounds) * 1e3;
  fmt::print("manage_relationship of {} tag names (half existing), {} rounds, durable\n", kNames, rounds);
  fmt::print("  manage_relationship   {:8.1f} ms per call\n", per_managed);
  fmt::print("  by hand, same work    {:8.1f} ms per call\n", per_hand);
  fmt::print("  ratio (by hand / managed): {:.2f}x\n", per_hand / per_managed);
  return 0;
}
