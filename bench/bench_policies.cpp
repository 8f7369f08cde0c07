// A read whose records a filter-check policy selects (owner_id == actor(:id)) vs the same
// read of an identical resource without policies, given the equivalent filter explicitly,
// in the same store and run. Each read returns one owner's records out of 100,000.
//
//   bench_policies [ROUNDS]     (default 20; each round reads both, interleaved)
#include "bench_support.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

using namespace ashlar;
using namespace ashlar::dsl;

namespace {

constexpr std::size_t kRecords = 100'000;
constexpr std::size_t kOwners = 100;

ResourceBuilder doc(const char* name) {
  return resource(name)
      .uuid_primary_key("id")
      .attribute("title", type::string)
      .attribute("owner_id", type::uuid)
      .defaults({"read", "destroy", "create:*", "update:*"});
}

Domain bench_domain() {
  return domain("bench")
      .resource(doc("Guarded").policy(action_type(ActionType::read), {authorize_if(expr(ref("owner_id") == actor("id")))},
                                      "owners read"))
      .resource(doc("Plain"))
      .build()
      .value();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rounds = 20;
  if (argc > 2 || (argc == 2 && !bench::parse_count(argv[1], rounds))) {
    std::cerr << "usage: bench_policies [ROUNDS]\n";
    return 2;
  }
  bench::TempDir dir;
  Engine engine = Engine::open(dir.path(), bench_domain(), {.durability = Durability::no_sync}).value();
  std::vector<Value> owners;
  for (std::size_t i = 0; i < kOwners; ++i) owners.push_back(Value(Uuid::v4()));
  std::vector<Fields> inputs;
  for (std::size_t i = 0; i < kRecords; ++i)
    inputs.push_back({{"title", fmt::format("doc {}", i)}, {"owner_id", owners[i % kOwners]}});
  for (const char* r : {"Guarded", "Plain"}) {
    auto made = engine.bulk_create(r, inputs, {.batch_size = 5000, .notify = false, .authorize = false});
    if (!made || made->error_count != 0) throw std::runtime_error(std::string("cannot fill ") + r);
  }

  double guarded = 0, plain = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    const Value& owner = owners[i % kOwners];
    auto start = std::chrono::steady_clock::now();
    auto by_policy = engine.read("Guarded", {.actor = Value(Map{{"id", owner}})});
    guarded += seconds_since(start);
    start = std::chrono::steady_clock::now();
    auto by_filter = engine.read("Plain", {.filter = ref("owner_id") == owner});
    plain += seconds_since(start);
    if (!by_policy || !by_filter || by_policy->size() != kRecords / kOwners || by_filter->size() != by_policy->size())
      throw std::runtime_error("the two reads do not return one owner's records");
  }
  double per_guarded = guarded / static_cast<double>(rounds) * 1e3;
  double per_plain = plain / static_cast<double>(rounds) * 1e3;
  fmt::print("read of one owner's {} records out of {}, {} rounds\n", kRecords / kOwners, kRecords, rounds);
  fmt::print("  filter-check policy (owner_id == actor(:id))   {:8.2f} ms per read\n", per_guarded);
  fmt::print("  no policy, the same filter given explicitly    {:8.2f} ms per read\n", per_plain);
  fmt::print("  ratio (explicit / policy): {:.2f}x (target >= 0.8x)\n", per_plain / per_guarded);
  return 0;
}
