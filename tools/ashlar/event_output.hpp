#pragma once
// An event as the command line prints it: one readable line, or one JSON object. The
// JSON shape is a contract scripts rely on, shared by log, history and subscribe:
//
//   {"position", "sequence", "tx", "time", "resource", "action", "type", "id",
//    "version", "changes", "inputs", "actor", "correlation_id", "hash"}
//
// Values encode as value_to_json does (ashlar/model/json.hpp). Values of attributes
// the model marks sensitive print as kRedacted, wherever they appear: the event keeps
// them so the state can be rebuilt, but an audit listing must not leak them.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/resource.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ashlar::cli {

inline constexpr std::string_view kRedacted = "**redacted**";

// Every key but "hash": for events that come without one (from the wire).
// "id" is the primary key's value, or an object of its attributes when composite.
nlohmann::ordered_json event_to_json(const Event& event, const Domain& domain);
// The full shape, "hash" being the hex of the event's chain hash.
nlohmann::ordered_json event_to_json(const StoredEvent& stored, const Domain& domain);

// Compact, one line; invalid UTF-8 in a string becomes U+FFFD instead of an exception.
std::string json_line(const nlohmann::ordered_json& json);

// A value as the text output shows it: Value::str(), with strings quoted and escaped so
// that a newline in a value never splits a line.
std::string value_to_text(const Value& value);

// "3 2026-11-21T23:28:16.123456Z User.update (update) id=<uuid> v2
//  changes={age: 31, password: **redacted**} actor=nil": strings quoted and escaped, so
// one event is always one line.
std::string event_to_text(const Event& event, const Domain& domain);

}  // namespace ashlar::cli
