#include <ashlar/eventlog/redact.hpp>

#include <ashlar/eventlog/event.hpp>

#include "event.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cstring>

namespace ashlar {
namespace {

bool listed(const std::vector<std::string>& names, capnp::Text::Reader name) {
  std::string_view n(name.begin(), name.size());
  return std::find(names.begin(), names.end(), n) != names.end();
}

// Nulls the listed attributes' values in `fields`, noting each name once in `withheld`.
void withhold(capnp::List<schema::Field>::Builder fields, const std::vector<std::string>& attributes,
              std::vector<std::string>& withheld) {
  for (auto field : fields) {
    if (!listed(attributes, field.getName())) continue;
    // A fresh value, null: setting the union to null alone would leave the old value's
    // data and pointer in the struct.
    field.initValue();
    std::string name(field.getName().begin(), field.getName().size());
    if (std::find(withheld.begin(), withheld.end(), name) == withheld.end()) withheld.push_back(std::move(name));
  }
}

}  // namespace

Result<std::string> redact_event(std::string_view bytes, const std::vector<std::string>& attributes) {
  // Decoding first bounds what the copy below may traverse, as for any event served.
  if (auto decoded = decode_event(bytes); !decoded) return fail(decoded.error());
  std::size_t words = bytes.size() / sizeof(capnp::word);
  auto aligned = kj::heapArray<capnp::word>(words);
  std::memcpy(aligned.begin(), bytes.data(), words * sizeof(capnp::word));
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words;
  capnp::FlatArrayMessageReader stored(aligned, options);

  capnp::MallocMessageBuilder edited;
  edited.setRoot(stored.getRoot<schema::Event>());
  auto event = edited.getRoot<schema::Event>();
  std::vector<std::string> withheld;
  withhold(event.getKey(), attributes, withheld);
  withhold(event.getChanges(), attributes, withheld);
  withhold(event.getInputs(), attributes, withheld);
  auto names = event.initRedacted(static_cast<unsigned>(withheld.size()));
  for (unsigned i = 0; i < withheld.size(); ++i) names.set(i, capnp::Text::Reader(withheld[i].data(), withheld[i].size()));

  // A deep copy holds only what the event still points to: the space the withheld
  // values took in `edited` (zeroed, but there) does not travel.
  capnp::MallocMessageBuilder wire;
  wire.setRoot(event.asReader());
  auto flat = capnp::messageToFlatArray(wire);
  auto out = flat.asChars();
  return std::string(out.begin(), out.size());
}

}  // namespace ashlar
