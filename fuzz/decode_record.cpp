// decode_record on any bytes: a record or an error, never a crash, a hang or an
// allocation the bytes cannot justify; what decodes re-encodes deterministically.
#include <ashlar/eventlog/event.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto record = ashlar::decode_record(bytes);
  if (!record) return 0;
  std::string encoded = ashlar::encode_record(*record);
  auto again = ashlar::decode_record(encoded);
  if (!again) {
    std::fprintf(stderr, "an encoded record does not decode: %s\n", again.error().describe().c_str());
    std::abort();
  }
  if (ashlar::encode_record(*again) != encoded) {
    std::fprintf(stderr, "decode(encode(record)) encodes to other bytes\n");
    std::abort();
  }
  return 0;
}
