// Keyset cursors (Query::after and Query::before), as a caller passes back whatever it
// was given: the runtime decodes them (base64 of a JSON array of sort values) and
// compares them with each row's sort key. Any cursor gives a page or an Invalid error,
// never a crash.
//
// The first byte picks the sort and how the rest is used: bit 0 set, the rest is the
// JSON inside the cursor (base64-encoded here, so the fuzzer explores the JSON); clear,
// it is the cursor's text as given. Bits 1-2 pick the sort, bit 3 a limit of 2, bit 4
// passes the cursor as `before` (a page backwards) instead of `after`.
#include "fuzz_store.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/model/json.hpp>

#include <cstdint>
#include <vector>

namespace {

using namespace ashlar;

// The Item store of fuzz_store.hpp, written by the engine (its projection is what a
// read sorts).
const Engine& engine() {
  static const Engine e = [] {
    auto opened = Engine::open(fuzz::store_dir() + "/store", fuzz::item_domain(), {.durability = Durability::no_sync});
    fuzz::or_abort(opened ? Result<void>() : Result<void>(opened.error()), "open");
    const Fields items[] = {
        {{"n", 1}, {"name", "one"}, {"score", 0.5}, {"tag", Atom{"a"}}, {"at", DateTime{1700000000000000}}},
        {{"n", 2}, {"name", "two"}, {"score", -1.0}, {"tag", Atom{"b"}}},
        {{"n", 2}, {"name", "zwei"}, {"tag", Atom{"a"}}, {"at", DateTime{1600000000000000}}},
        {{"name", "none"}},
        {{"n", 3}, {"name", "three"}, {"score", 1e9}, {"tag", Atom{"c"}}, {"at", DateTime{0}}},
    };
    for (const auto& inputs : items) {
      auto created = opened->create("Item", inputs);
      fuzz::or_abort(created ? Result<void>() : Result<void>(created.error()), "create");
    }
    return std::move(*opened);
  }();
  return e;
}

const std::vector<SortKey> kSorts[] = {
    {},
    {SortKey::desc("n"), SortKey::asc("name")},
    {SortKey::asc("score"), {"at", true, false}},
    {{"tag", false, true}, SortKey::desc("at"), SortKey::asc("n")},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  Query q;
  q.sort = kSorts[(data[0] >> 1) % 4];
  (data[0] & 16 ? q.before : q.after) = data[0] & 1 ? base64_encode(rest) : std::string(rest);
  if (data[0] & 8) q.limit = 2;
  auto page = engine().read("Item", q);
  if (!page && page.error().cls != ErrorClass::invalid) {
    std::fprintf(stderr, "a cursor gave a non-Invalid error: %s\n", page.error().describe().c_str());
    std::abort();
  }
  return 0;
}
