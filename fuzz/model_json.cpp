// The stored model's JSON, as every reader of a store parses it: domain_from_json on any
// text gives a domain or an error, never a crash. A domain that parses writes JSON that
// parses back to a domain writing the same JSON.
#include <ashlar/model/resource.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto domain = ashlar::domain_from_json(text);
  if (!domain) return 0;
  std::string json = ashlar::domain_to_json(*domain);
  auto again = ashlar::domain_from_json(json);
  if (!again) {
    std::fprintf(stderr, "a written model does not read back: %s\n%s\n", again.error().describe().c_str(),
                 json.c_str());
    std::abort();
  }
  if (ashlar::domain_to_json(*again) != json) {
    std::fprintf(stderr, "a model read back writes other JSON:\n%s\n", json.c_str());
    std::abort();
  }
  if (!ashlar::incompatibilities(*domain, *again).empty()) {
    std::fprintf(stderr, "a model read back is incompatible with itself:\n%s\n", json.c_str());
    std::abort();
  }
  return 0;
}
