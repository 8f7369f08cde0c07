#pragma once
// One event: the recorded outcome of one action on one record.

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <cstdint>
#include <string>

namespace ashlar {

struct ASHLAR_API Event {
  std::uint64_t position = 0;  // global, 1-based, gapless; assigned by Log::append
  std::uint64_t sequence = 0;  // per resource, 1-based, gapless; assigned by Log::append
  std::uint64_t version = 0;   // per record: 1 on create
  std::uint64_t tx = 0;        // the position of the first event of its transaction
  std::string domain;
  std::string resource;
  std::string action;
  ActionType type = ActionType::create;
  Fields key;      // primary key attributes, in declaration order
  Fields changes;  // attribute values after all changes ran (create: every non-nil one)
  Fields inputs;   // the accepted inputs, as cast
  Value actor;     // null when there is none
  std::string correlation_id;
  std::string causation_id;
  std::string tenant;
  std::int64_t time_micros = 0;  // wall clock, UTC
  // The caller's idempotency key (CallOptions::idempotency_key); empty when none. Indexed
  // by the log (per tenant), so a retry of the action finds this event.
  std::string idempotency_key;

  bool operator==(const Event&) const = default;
};

// The event's bytes in the public Cap'n Proto schema (eventlog/schema/event.capnp), as
// stored and published. Deterministic: equal events encode to equal bytes.
ASHLAR_API std::string encode_event(const Event& event);

// Values in an event nest at most this deep (a map or array in a map is two levels), so
// that every event written can be decoded again (see decode_event's limit).
inline constexpr int kMaxValueNesting = 16;
// Invalid (code too_complex) naming the input, change or key field, or "actor", whose
// value nests deeper than kMaxValueNesting; Log::append refuses such an event (it could
// not be decoded again).
ASHLAR_API Result<void> check_nesting(const Event& event);
// What check_nesting refuses, and what the engine does not let an action record though
// the log could hold it (a replica appends what its primary wrote, as it wrote it): an
// actor holding text that is not UTF-8 or a float that is not finite, or a tenant,
// correlation id, causation id or idempotency key that is not UTF-8 (code
// invalid_value). Each at once; the error's code is too_complex when one is too deep.
// Inputs and changes are cast before: theirs are never so.
ASHLAR_API Result<void> check_values(const Event& event);

// Decodes bytes from the log or the wire, trusting none of the sizes they claim: the
// work and memory it takes are bounded by the bytes' length, and values nest at most
// about 30 arrays or 20 maps deep (Cap'n Proto's default limit of 64 structs and lists).
// Malformed bytes are an Unknown error with code decode_error naming the position when
// given and the part that failed ("event at position 17 does not decode: changes: a
// list claims 300000000 elements, more than 96 bytes hold"); never an exception.
ASHLAR_API Result<Event> decode_event(std::string_view bytes, std::uint64_t position = 0);

// A record as the state projection stores it: the fold of the record's events.
struct ASHLAR_API StoredRecord {
  std::uint64_t version = 0;
  std::uint64_t position = 0;  // the event that produced this state
  Fields attributes;           // non-nil attributes

  bool operator==(const StoredRecord&) const = default;
};
ASHLAR_API std::string encode_record(const StoredRecord& record);
// As decode_event: malformed bytes are a decode_error ("record does not decode: ..."),
// never an exception.
ASHLAR_API Result<StoredRecord> decode_record(std::string_view bytes);

}  // namespace ashlar
