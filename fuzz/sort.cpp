// parse_sort on any text: keys or an Invalid error on field "sort", never a crash; keys
// print to text that parses to the same keys.
#include <ashlar/model/sort.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto keys = ashlar::parse_sort(text);
  if (!keys) {
    const auto& e = keys.error();
    if (e.cls != ashlar::ErrorClass::invalid || e.fields.size() != 1 || e.fields[0].field != "sort") {
      std::fprintf(stderr, "not a sort error: %s\n", e.describe().c_str());
      std::abort();
    }
    return 0;
  }
  std::string printed = ashlar::to_string(*keys);
  auto again = ashlar::parse_sort(printed);
  if (!again || *again != *keys) {
    std::fprintf(stderr, "the printed sort does not parse back the same: %s\n", printed.c_str());
    std::abort();
  }
  return 0;
}
