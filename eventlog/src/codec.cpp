// Events and records to and from the public Cap'n Proto schema.
#include <ashlar/eventlog/event.hpp>
#include <ashlar/model/type.hpp>

#include "event.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <vector>

namespace ashlar {
namespace {

void write_value(schema::Value::Builder out, const Value& v);

// Text of exactly these bytes: kj converts a std::string through c_str(), which would cut
// it at its first NUL byte.
capnp::Text::Reader text(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

void write_fields(capnp::List<schema::Field>::Builder out, const Fields& fields) {
  for (unsigned i = 0; i < fields.size(); ++i) {
    out[i].setName(text(fields[i].first));
    write_value(out[i].initValue(), fields[i].second);
  }
}

capnp::Data::Reader data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

void write_value(schema::Value::Builder out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::null: out.setNull(); return;
    case ValueKind::boolean: out.setBoolean(*v.as_bool()); return;
    case ValueKind::integer: out.setInteger(*v.as_int()); return;
    case ValueKind::floating: out.setFloat(*v.as_float()); return;
    case ValueKind::string: out.setString(text(*v.as_string())); return;
    case ValueKind::uuid:
      out.setUuid(capnp::Data::Reader(v.as_uuid()->bytes.data(), 16));
      return;
    case ValueKind::datetime: out.setDatetime(v.as_datetime()->micros); return;
    case ValueKind::date: out.setDate(v.as_date()->days); return;
    case ValueKind::atom: out.setAtom(text(v.as_atom()->name)); return;
    case ValueKind::binary: out.setBinary(data(v.as_binary()->bytes)); return;
    case ValueKind::map: {
      const Map& m = *v.as_map();
      auto list = out.initMap(static_cast<unsigned>(m.size()));
      for (unsigned i = 0; i < m.size(); ++i) {
        list[i].setName(text(m[i].first));
        write_value(list[i].initValue(), m[i].second);
      }
      return;
    }
    case ValueKind::array: {
      const Array& a = *v.as_array();
      auto list = out.initArray(static_cast<unsigned>(a.size()));
      for (unsigned i = 0; i < a.size(); ++i) write_value(list[i], a[i]);
      return;
    }
    // cast_value refuses it, so no attribute carries one; elsewhere (an actor built from a
    // read record) the value the actor may not read is not there to record.
    case ValueKind::forbidden: out.setNull(); return;
  }
}

std::string to_string(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

// Cap'n Proto's default, which readers in other languages apply too. Every struct and
// list counts a level, an array in a value two and a map three: a value in an event
// nests at most about 30 arrays or 20 maps deep, and decoding recurses no deeper.
constexpr int kNestingLimit = 64;

// Our own reason to reject a message, beside Cap'n Proto's kj::Exception.
struct Malformed {
  std::string why;
};

// Reads an event or a record out of a message of `words` words, never trusting a size it
// claims: the reader may traverse no more words than the message has (every object a
// well-formed message holds is read once, so only a lie reaches the limit — a list of
// zero-sized elements claims any count for free), and a list is counted against that
// before anything is reserved for it. `part` names what is being read, for the error.
class Decoder {
 public:
  explicit Decoder(std::size_t words) : words_(words) {}

  std::string_view part() const { return part_; }
  void reading(std::string_view part) { part_ = part; }

  Fields fields(capnp::List<schema::Field>::Reader in) {
    Fields out;
    out.reserve(count(in.size()));
    for (auto f : in) {
      std::string name = to_string(f.getName());
      out.emplace_back(std::move(name), value(f.getValue()));
    }
    return out;
  }

  Value value(schema::Value::Reader in) {
    switch (in.which()) {
      case schema::Value::NULL_: return Value();
      case schema::Value::BOOLEAN: return Value(in.getBoolean());
      case schema::Value::INTEGER: return Value(in.getInteger());
      case schema::Value::FLOAT: return Value(in.getFloat());
      case schema::Value::STRING: return Value(to_string(in.getString()));
      case schema::Value::UUID: {
        auto d = in.getUuid();
        if (d.size() != 16) throw Malformed{fmt::format("a uuid of {} bytes (a uuid is 16)", d.size())};
        Uuid u;
        std::memcpy(u.bytes.data(), d.begin(), 16);
        return Value(u);
      }
      case schema::Value::DATETIME: return Value(DateTime{in.getDatetime()});
      case schema::Value::DATE: return Value(Date{in.getDate()});
      case schema::Value::ATOM: return Value(Atom{to_string(in.getAtom())});
      case schema::Value::BINARY: {
        auto d = in.getBinary();
        return Value(Binary{std::string(reinterpret_cast<const char*>(d.begin()), d.size())});
      }
      case schema::Value::MAP: return Value(fields(in.getMap()));
      case schema::Value::ARRAY: {
        auto items = in.getArray();
        Array a;
        a.reserve(count(items.size()));
        for (auto item : items) a.push_back(value(item));
        return Value(std::move(a));
      }
    }
    throw Malformed{fmt::format("a value of unknown kind {} (written by a newer ashlar?)",
                                static_cast<unsigned>(in.which()))};
  }

 private:
  // A list's element count, once the message is known to hold that many: each element
  // takes at least a word.
  std::size_t count(std::size_t n) const {
    if (n > words_)
      throw Malformed{fmt::format("a list claims {} elements, more than {} bytes hold", n, words_ * 8)};
    return n;
  }

  std::size_t words_;
  std::string_view part_;
};

// "changes: ...": the failure and the part of the message it was met in (none while the
// segment table is read).
std::string reason(std::string_view part, std::string_view detail) {
  return part.empty() ? std::string(detail) : fmt::format("{}: {}", part, detail);
}

// What Cap'n Proto says, without the condition its checks quote ("expected ...; ") and
// any bytes of the message it quotes that are not printable ASCII.
std::string capnp_reason(const kj::Exception& e, std::size_t bytes) {
  kj::StringPtr description = e.getDescription();  // may hold a NUL it quotes
  std::string text(description.begin(), description.size());
  for (char& c : text)
    if (c < 0x20 || c > 0x7e) c = '?';
  if (text.find("traversal limit") != std::string::npos)
    return fmt::format("the message claims more data than its {} bytes hold", bytes);
  if (text.find("ends prematurely") != std::string::npos)
    return fmt::format("its segment table claims more than its {} bytes hold", bytes);
  if (text.find("too deeply") != std::string::npos)
    return fmt::format("structs and lists nest more than {} deep", kNestingLimit);
  if (text.rfind("expected ", 0) == 0)
    if (auto semi = text.find("; "); semi != std::string::npos) text.erase(0, semi + 2);
  if (text.ends_with('.')) text.pop_back();
  if (text.size() > 1 && std::islower(static_cast<unsigned char>(text[1])))  // "Message ...", not "INLINE_..."
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// The message's bytes (segment table, then segments), written straight into the string.
std::string flatten(capnp::MessageBuilder& message) {
  std::string out(capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, message);
  return out;
}

kj::Array<capnp::word> zeroed(std::size_t words) {
  auto out = kj::heapArray<capnp::word>(words);
  std::memset(out.begin(), 0, words * sizeof(capnp::word));
  return out;
}

// Encodes through build(message) into a first segment kept zeroed per thread, so an
// encoding allocates and clears no 8 KiB segment of its own. The segment is as large as
// the one MallocMessageBuilder allocates by default, so the bytes are those it would
// write; after each use it is cleared as far as it was written.
template <typename F>
std::string encode_with(F&& build) {
  struct Scratch {
    // (capnp::word cannot be copied or moved, so no std::vector of it.)
    kj::Array<capnp::word> words = zeroed(capnp::SUGGESTED_FIRST_SEGMENT_WORDS);
    bool in_use = false;
  };
  thread_local Scratch scratch;
  if (scratch.in_use) {  // not expected (encoding does not nest), but never share it
    capnp::MallocMessageBuilder message;
    build(message);
    return flatten(message);
  }
  scratch.in_use = true;  // left set if build throws: the segment is then not reused
  std::string out;
  {
    capnp::MallocMessageBuilder message(scratch.words.asPtr());
    build(message);
    out = flatten(message);
    auto used = message.getSegmentsForOutput()[0].size();
    std::memset(scratch.words.begin(), 0, used * sizeof(capnp::word));
  }
  scratch.in_use = false;
  return out;
}

// Runs f(root reader, decoder) on the message in `bytes`, turning every way it can fail
// into a decode_error naming `what()` ("event at position 17", formatted only then): Cap'n Proto's exceptions,
// ours, and allocation failures (which the limits above should leave only to a machine
// that is out of memory anyway).
template <typename Root, typename What, typename F>
auto with_reader(std::string_view bytes, What&& what, F&& f)
    -> Result<decltype(f(std::declval<typename Root::Reader>(), std::declval<Decoder&>()))> {
  auto failed = [&](std::string why) {
    return fail(Error::unknown(fmt::format("{} does not decode: {}", what(), why)).with_code(codes::kDecodeError));
  };
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty())
    return failed(fmt::format("{} bytes is not a whole message", bytes.size()));
  std::size_t words = bytes.size() / sizeof(capnp::word);
  Decoder decoder(words);
  try {
    // LMDB values and ZeroMQ frames are not always 8-byte aligned, and Cap'n Proto 0.9
    // needs it: bytes that are not are copied into a buffer kept per thread.
    // (A large message gets a copy of its own, so no thread keeps a large buffer.)
    constexpr std::size_t kKeptWords = std::size_t{1} << 17;  // 1 MiB
    kj::ArrayPtr<const capnp::word> aligned;
    kj::Array<capnp::word> large;
    if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
      aligned = kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), words);
    } else if (words > kKeptWords) {
      large = kj::heapArray<capnp::word>(words);
      std::memcpy(large.begin(), bytes.data(), bytes.size());
      aligned = kj::arrayPtr(large.begin(), words);
    } else {
      thread_local kj::Array<capnp::word> copy;
      if (copy.size() < words) copy = kj::heapArray<capnp::word>(std::max(words, std::size_t{512}));
      std::memcpy(copy.begin(), bytes.data(), bytes.size());
      aligned = kj::arrayPtr(copy.begin(), words);
    }
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words;
    options.nestingLimit = kNestingLimit;
    capnp::FlatArrayMessageReader reader(aligned, options);
    decoder.reading("root");
    return f(reader.getRoot<Root>(), decoder);
  } catch (const kj::Exception& e) {
    return failed(reason(decoder.part(), capnp_reason(e, bytes.size())));
  } catch (const Malformed& e) {
    return failed(reason(decoder.part(), e.why));
  } catch (const std::bad_alloc&) {
    return failed(reason(decoder.part(), "out of memory"));
  } catch (const std::exception& e) {
    return failed(reason(decoder.part(), e.what()));
  }
}

}  // namespace

std::string encode_event(const Event& e) {
  return encode_with([&](capnp::MessageBuilder& message) {
    auto b = message.initRoot<schema::Event>();
    b.setPosition(e.position);
    b.setSequence(e.sequence);
    b.setVersion(e.version);
    b.setTx(e.tx);
    b.setDomain(text(e.domain));
    b.setResource(text(e.resource));
    b.setAction(text(e.action));
    b.setActionType(static_cast<schema::ActionType>(e.type));
    write_fields(b.initKey(static_cast<unsigned>(e.key.size())), e.key);
    write_fields(b.initChanges(static_cast<unsigned>(e.changes.size())), e.changes);
    write_fields(b.initInputs(static_cast<unsigned>(e.inputs.size())), e.inputs);
    write_value(b.initActor(), e.actor);
    b.setCorrelationId(text(e.correlation_id));
    b.setCausationId(text(e.causation_id));
    b.setTenant(text(e.tenant));
    b.setTimeMicros(e.time_micros);
    // Left unset (a null pointer, no text object) when the action had no key.
    if (!e.idempotency_key.empty()) b.setIdempotencyKey(text(e.idempotency_key));
  });
}

Result<Event> decode_event(std::string_view bytes, std::uint64_t position) {
  auto what = [position] { return position ? fmt::format("event at position {}", position) : std::string("event"); };
  return with_reader<schema::Event>(bytes, what, [](schema::Event::Reader r, Decoder& d) {
    Event e;
    e.position = r.getPosition();
    e.sequence = r.getSequence();
    e.version = r.getVersion();
    e.tx = r.getTx();
    d.reading("domain");
    e.domain = to_string(r.getDomain());
    d.reading("resource");
    e.resource = to_string(r.getResource());
    d.reading("action");
    e.action = to_string(r.getAction());
    d.reading("actionType");
    auto type = static_cast<unsigned>(r.getActionType());
    if (type > static_cast<unsigned>(ActionType::destroy)) throw Malformed{fmt::format("unknown action type {}", type)};
    e.type = static_cast<ActionType>(type);
    d.reading("key");
    e.key = d.fields(r.getKey());
    d.reading("changes");
    e.changes = d.fields(r.getChanges());
    d.reading("inputs");
    e.inputs = d.fields(r.getInputs());
    d.reading("actor");
    e.actor = d.value(r.getActor());
    d.reading("correlationId");
    e.correlation_id = to_string(r.getCorrelationId());
    d.reading("causationId");
    e.causation_id = to_string(r.getCausationId());
    d.reading("tenant");
    e.tenant = to_string(r.getTenant());
    e.time_micros = r.getTimeMicros();
    d.reading("idempotencyKey");
    e.idempotency_key = to_string(r.getIdempotencyKey());
    return e;
  });
}

std::string encode_record(const StoredRecord& record) {
  return encode_with([&](capnp::MessageBuilder& message) {
    auto b = message.initRoot<schema::Record>();
    b.setVersion(record.version);
    b.setPosition(record.position);
    write_fields(b.initAttributes(static_cast<unsigned>(record.attributes.size())), record.attributes);
  });
}

Result<StoredRecord> decode_record(std::string_view bytes) {
  return with_reader<schema::Record>(bytes, [] { return std::string("record"); }, [](schema::Record::Reader r, Decoder& d) {
    d.reading("attributes");
    return StoredRecord{r.getVersion(), r.getPosition(), d.fields(r.getAttributes())};
  });
}

namespace {

// How deep a value nests: a scalar is 0, a map or array one more than its deepest element.
// Stops counting past `limit`, so a hostile value costs no more than that.
int nesting(const Value& v, int limit) {
  if (limit < 0) return 0;
  int deepest = 0;
  if (const Map* m = v.as_map()) {
    for (const auto& [key, element] : *m) deepest = std::max(deepest, 1 + nesting(element, limit - 1));
    return std::max(deepest, 1);
  }
  if (const Array* a = v.as_array()) {
    for (const auto& element : *a) deepest = std::max(deepest, 1 + nesting(element, limit - 1));
    return std::max(deepest, 1);
  }
  return 0;
}

std::optional<FieldError> too_deep(const std::string& field, const Value& v) {
  int depth = nesting(v, kMaxValueNesting + 1);
  if (depth <= kMaxValueNesting) return std::nullopt;
  return FieldError{field, codes::kTooComplex,
                    fmt::format("nests maps and arrays more than {} levels deep", kMaxValueNesting)};
}

}  // namespace

namespace {

std::vector<FieldError> too_deep_fields(const Event& event) {
  std::vector<FieldError> errors;
  for (const auto* fields : {&event.inputs, &event.changes, &event.key})
    for (const auto& [name, value] : *fields)
      if (auto e = too_deep(name, value); e && std::find(errors.begin(), errors.end(), *e) == errors.end())
        errors.push_back(std::move(*e));
  return errors;
}

Result<void> refuse(const Event& event, std::vector<FieldError> errors, bool too_complex) {
  if (errors.empty()) return {};
  Error error = Error::invalid(event.resource, event.action, std::move(errors));
  if (too_complex) error.code = codes::kTooComplex;
  return fail(std::move(error));
}

}  // namespace

Result<void> check_nesting(const Event& event) {
  std::vector<FieldError> errors = too_deep_fields(event);
  if (auto e = too_deep("actor", event.actor)) errors.push_back(std::move(*e));
  return refuse(event, std::move(errors), true);
}

Result<void> check_values(const Event& event) {
  std::vector<FieldError> errors = too_deep_fields(event);
  bool too_complex = !errors.empty();
  // What the caller says of the call rather than of the record, cast by nothing else.
  if (auto why = unstorable(event.actor)) {
    bool deep = why->starts_with("nests maps and arrays");
    too_complex = too_complex || deep;
    errors.push_back({"actor", deep ? codes::kTooComplex : "invalid_value", std::move(*why)});
  }
  for (const auto& [name, text] : {std::pair<const char*, const std::string*>{"tenant", &event.tenant},
                                   {"correlation_id", &event.correlation_id},
                                   {"causation_id", &event.causation_id},
                                   {"idempotency_key", &event.idempotency_key}})
    if (!valid_utf8(*text)) errors.push_back({name, "invalid_value", "is not valid UTF-8 text"});
  return refuse(event, std::move(errors), too_complex);
}

}  // namespace ashlar
