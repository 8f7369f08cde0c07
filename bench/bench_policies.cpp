// A read whose records a filter-check policy selects (owner_id == actor(:id)) vs the same
// read of an identical resource without policies, given the equivalent filter explicitly,
// in the same store and run. Each read returns one owner's records out of RECORDS.
//
// Then a tenant's read (attribute multitenancy: the call's tenant scopes it) in a store
// of 100 tenants, each with RECORDS / 100 records, vs the same read in a store holding
// that tenant alone: a tenant's reads should cost what its own records cost.
//
//   bench_policies [ROUNDS] [RECORDS]   (default 20 rounds of 100,000 records; each
//                                        round reads both sides, interleaved)
#include "bench_support.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

using namespace ashlar;
using namespace ashlar::dsl;

namespace {

constexpr std::size_t kOwners = 100;
constexpr std::size_t kTenants = 100;

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

Domain tenant_domain() {
  return domain("bench")
      .resource(resource("Doc")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .attribute("org_id", type::string)
                    .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string tenant_name(std::size_t i) { return fmt::format("org-{:03}", i); }

// Fills `engine` with `per_tenant` records of each of tenants [first, first + count).
void fill_tenants(Engine& engine, std::size_t first, std::size_t count, std::size_t per_tenant) {
  std::vector<Fields> inputs;
  for (std::size_t i = 0; i < per_tenant; ++i) inputs.push_back({{"title", fmt::format("doc {}", i)}});
  for (std::size_t t = first; t < first + count; ++t) {
    auto made = engine.bulk_create("Doc", inputs, {.tenant = tenant_name(t), .batch_size = 5000, .notify = false});
    if (!made || made->error_count != 0) throw std::runtime_error("cannot fill " + tenant_name(t));
  }
}

void bench_policy(std::size_t rounds, std::size_t records) {
  bench::TempDir dir;
  Engine engine = Engine::open(dir.path(), bench_domain(), {.durability = Durability::no_sync}).value();
  std::vector<Value> owners;
  for (std::size_t i = 0; i < kOwners; ++i) owners.push_back(Value(Uuid::v4()));
  std::vector<Fields> inputs;
  for (std::size_t i = 0; i < records; ++i)
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
    if (!by_policy || !by_filter || by_policy->size() != records / kOwners || by_filter->size() != by_policy->size())
      throw std::runtime_error("the two reads do not return one owner's records");
  }
  double per_guarded = guarded / static_cast<double>(rounds) * 1e3;
  double per_plain = plain / static_cast<double>(rounds) * 1e3;
  fmt::print("read of one owner's {} records out of {}, {} rounds\n", records / kOwners, records, rounds);
  fmt::print("  filter-check policy (owner_id == actor(:id))   {:8.2f} ms per read\n", per_guarded);
  fmt::print("  no policy, the same filter given explicitly    {:8.2f} ms per read\n", per_plain);
  fmt::print("  ratio (explicit / policy): {:.2f}x (target >= 0.8x)\n", per_plain / per_guarded);
}

void bench_tenants(std::size_t rounds, std::size_t records) {
  const std::size_t per_tenant = records / kTenants;
  const std::size_t reader = kTenants / 2;  // the tenant both stores hold
  bench::TempDir shared_dir, alone_dir;
  Options options{.durability = Durability::no_sync};
  Engine shared = Engine::open(shared_dir.path(), tenant_domain(), options).value();
  Engine alone = Engine::open(alone_dir.path(), tenant_domain(), options).value();
  fill_tenants(shared, 0, kTenants, per_tenant);
  fill_tenants(alone, reader, 1, per_tenant);

  double in_shared = 0, in_alone = 0;
  const Query query{.tenant = tenant_name(reader)};
  for (std::size_t i = 0; i < rounds; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto among_all = shared.read("Doc", query);
    in_shared += seconds_since(start);
    start = std::chrono::steady_clock::now();
    auto by_itself = alone.read("Doc", query);
    in_alone += seconds_since(start);
    if (!among_all || !by_itself || among_all->size() != per_tenant || by_itself->size() != per_tenant)
      throw std::runtime_error("the two reads do not return the tenant's records");
  }
  double per_shared = in_shared / static_cast<double>(rounds) * 1e3;
  double per_alone = in_alone / static_cast<double>(rounds) * 1e3;
  fmt::print("read of one tenant's {} records (attribute multitenancy), {} rounds\n", per_tenant, rounds);
  std::string among = fmt::format("in a store of {} tenants ({} records)", kTenants, per_tenant * kTenants);
  fmt::print("  {:<47}{:8.2f} ms per read\n", among, per_shared);
  fmt::print("  {:<47}{:8.2f} ms per read\n", "in a store holding that tenant alone", per_alone);
  fmt::print("  ratio (alone / among {}): {:.2f}x (target >= 0.8x)\n", kTenants, per_alone / per_shared);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rounds = 20, records = 100'000;
  if (argc > 3 || (argc >= 2 && !bench::parse_count(argv[1], rounds)) ||
      (argc == 3 && (!bench::parse_count(argv[2], records) || records < kTenants))) {
    std::cerr << "usage: bench_policies [ROUNDS] [RECORDS]   (RECORDS at least 100)\n";
    return 2;
  }
  bench_policy(rounds, records);
  bench_tenants(rounds, records);
  return 0;
}
