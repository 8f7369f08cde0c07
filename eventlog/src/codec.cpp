// Events and records to and from the public Cap'n Proto schema.
#include <ashlar/eventlog/event.hpp>

#include "event.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <kj/exception.h>

#include <cstring>

namespace ashlar {
namespace {

void write_value(schema::Value::Builder out, const Value& v);

void write_fields(capnp::List<schema::Field>::Builder out, const Fields& fields) {
  for (unsigned i = 0; i < fields.size(); ++i) {
    out[i].setName(fields[i].first);
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
    case ValueKind::string: out.setString(*v.as_string()); return;
    case ValueKind::uuid:
      out.setUuid(capnp::Data::Reader(v.as_uuid()->bytes.data(), 16));
      return;
    case ValueKind::datetime: out.setDatetime(v.as_datetime()->micros); return;
    case ValueKind::date: out.setDate(v.as_date()->days); return;
    case ValueKind::atom: out.setAtom(v.as_atom()->name); return;
    case ValueKind::binary: out.setBinary(data(v.as_binary()->bytes)); return;
    case ValueKind::map: {
      const Map& m = *v.as_map();
      auto list = out.initMap(static_cast<unsigned>(m.size()));
      for (unsigned i = 0; i < m.size(); ++i) {
        list[i].setName(m[i].first);
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
  }
}

std::string to_string(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

Value read_value(schema::Value::Reader in);

Fields read_fields(capnp::List<schema::Field>::Reader in) {
  Fields out;
  out.reserve(in.size());
  for (auto f : in) out.emplace_back(to_string(f.getName()), read_value(f.getValue()));
  return out;
}

Value read_value(schema::Value::Reader in) {
  switch (in.which()) {
    case schema::Value::NULL_: return Value();
    case schema::Value::BOOLEAN: return Value(in.getBoolean());
    case schema::Value::INTEGER: return Value(in.getInteger());
    case schema::Value::FLOAT: return Value(in.getFloat());
    case schema::Value::STRING: return Value(to_string(in.getString()));
    case schema::Value::UUID: {
      auto d = in.getUuid();
      KJ_REQUIRE(d.size() == 16, "a uuid is 16 bytes");
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
    case schema::Value::MAP: {
      Map m;
      for (auto f : in.getMap()) m.emplace_back(to_string(f.getName()), read_value(f.getValue()));
      return Value(std::move(m));
    }
    case schema::Value::ARRAY: {
      Array a;
      for (auto item : in.getArray()) a.push_back(read_value(item));
      return Value(std::move(a));
    }
  }
  KJ_FAIL_REQUIRE("unknown value kind (written by a newer ashlar?)");
}

std::string flatten(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// LMDB values and ZeroMQ frames are not 8-byte aligned; Cap'n Proto 0.9 needs it.
template <typename F>
auto with_reader(std::string_view bytes, std::string_view what, F&& f)
    -> Result<decltype(f(std::declval<capnp::FlatArrayMessageReader&>()))> {
  if (bytes.size() % sizeof(capnp::word) != 0 || bytes.empty())
    return fail(Error::unknown(fmt::format("{} does not decode: {} bytes is not a whole message", what, bytes.size())));
  kj::Array<capnp::word> aligned = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(aligned.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 1ULL << 30;
    capnp::FlatArrayMessageReader reader(aligned, options);
    return f(reader);
  } catch (const kj::Exception& e) {
    return fail(Error::unknown(fmt::format("{} does not decode: {}", what, e.getDescription().cStr())));
  }
}

}  // namespace

std::string encode_event(const Event& e) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Event>();
  b.setPosition(e.position);
  b.setSequence(e.sequence);
  b.setVersion(e.version);
  b.setTx(e.tx);
  b.setDomain(e.domain);
  b.setResource(e.resource);
  b.setAction(e.action);
  b.setActionType(static_cast<schema::ActionType>(e.type));
  write_fields(b.initKey(static_cast<unsigned>(e.key.size())), e.key);
  write_fields(b.initChanges(static_cast<unsigned>(e.changes.size())), e.changes);
  write_fields(b.initInputs(static_cast<unsigned>(e.inputs.size())), e.inputs);
  write_value(b.initActor(), e.actor);
  b.setCorrelationId(e.correlation_id);
  b.setCausationId(e.causation_id);
  b.setTenant(e.tenant);
  b.setTimeMicros(e.time_micros);
  // Left unset (a null pointer, no text object) when the action had no key.
  if (!e.idempotency_key.empty()) b.setIdempotencyKey(e.idempotency_key);
  return flatten(message);
}

Result<Event> decode_event(std::string_view bytes) {
  return with_reader(bytes, "event", [](capnp::FlatArrayMessageReader& reader) {
    auto r = reader.getRoot<schema::Event>();
    Event e;
    e.position = r.getPosition();
    e.sequence = r.getSequence();
    e.version = r.getVersion();
    e.tx = r.getTx();
    e.domain = to_string(r.getDomain());
    e.resource = to_string(r.getResource());
    e.action = to_string(r.getAction());
    auto type = static_cast<unsigned>(r.getActionType());
    KJ_REQUIRE(type <= static_cast<unsigned>(ActionType::destroy), "unknown action type");
    e.type = static_cast<ActionType>(type);
    e.key = read_fields(r.getKey());
    e.changes = read_fields(r.getChanges());
    e.inputs = read_fields(r.getInputs());
    e.actor = read_value(r.getActor());
    e.correlation_id = to_string(r.getCorrelationId());
    e.causation_id = to_string(r.getCausationId());
    e.tenant = to_string(r.getTenant());
    e.time_micros = r.getTimeMicros();
    e.idempotency_key = to_string(r.getIdempotencyKey());
    return e;
  });
}

std::string encode_record(const StoredRecord& record) {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Record>();
  b.setVersion(record.version);
  b.setPosition(record.position);
  write_fields(b.initAttributes(static_cast<unsigned>(record.attributes.size())), record.attributes);
  return flatten(message);
}

Result<StoredRecord> decode_record(std::string_view bytes) {
  return with_reader(bytes, "record", [](capnp::FlatArrayMessageReader& reader) {
    auto r = reader.getRoot<schema::Record>();
    return StoredRecord{r.getVersion(), r.getPosition(), read_fields(r.getAttributes())};
  });
}

}  // namespace ashlar
