#pragma once
// An event as JSON: the shape `ashlar log --json` prints and `GET /events` streams, a
// contract scripts rely on:
//
//   {"position", "sequence", "tx", "time", "resource", "action", "type", "id",
//    "version", "changes", "inputs", "actor", "correlation_id", "hash"}
//
// plus "idempotency_key" when the call gave one. Values encode as value_to_json does
// (ashlar/model/json.hpp). Values of attributes the model marks sensitive print as
// kRedacted, wherever they appear: the event keeps them so the state can be rebuilt, but
// an audit listing must not leak them.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ashlar {

inline constexpr std::string_view kRedacted = "**redacted**";

// Every key but "hash": for events that come without one (from the wire).
// "id" is the primary key's value, or an object of its attributes when composite. An
// event of a resource `domain` does not describe shows every value.
ASHLAR_API nlohmann::ordered_json event_to_json(const Event& event, const Domain& domain);
// The full shape, "hash" being the hex of the event's chain hash.
ASHLAR_API nlohmann::ordered_json event_to_json(const StoredEvent& stored, const Domain& domain);

// Compact, one line; invalid UTF-8 in a string becomes U+FFFD instead of an exception.
ASHLAR_API std::string json_line(const nlohmann::ordered_json& json);

}  // namespace ashlar
