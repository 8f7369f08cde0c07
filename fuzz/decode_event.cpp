// decode_event on any bytes: an event or an error, never a crash, a hang or an allocation
// the bytes cannot justify. What decodes re-encodes deterministically: encoding the
// decoded event and decoding that again gives the same bytes.
#include <ashlar/eventlog/event.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = ashlar::decode_event(bytes);
  if (!event) return 0;
  std::string encoded = ashlar::encode_event(*event);
  auto again = ashlar::decode_event(encoded);
  if (!again) {
    std::fprintf(stderr, "an encoded event does not decode: %s\n", again.error().describe().c_str());
    std::abort();
  }
  if (ashlar::encode_event(*again) != encoded) {
    std::fprintf(stderr, "decode(encode(event)) encodes to other bytes\n");
    std::abort();
  }
  return 0;
}
