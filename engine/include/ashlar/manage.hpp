#pragma once
// Managing relationships (Ash's manage_relationship): the records related to one record
// made to match an input — a list of maps (inputs for the destination's actions), simple
// key values, primary keys or Records — by relating, creating, updating, unrelating and
// destroying, all through the destination's (and a many_to_many's join resource's)
// actions, inside the parent action's transaction.
//
// For each input, in order:
//   matches a record related now ........ on_match: ignore, update, unrelate or error
//   else, on_lookup relate and a record
//   of the destination has its key ...... it is related
//   else ................................ on_no_match: ignore, create or error
// and each record related now that no input names: on_missing (ignore, unrelate, destroy).
//
// An input is matched, and looked up, by the first of the keys it carries: the primary
// key, then the identities named in use_identities (in that order). A simple value is the
// value of value_is_key (default: the single-attribute primary key); a Record is its own
// primary key and counts as found, without being read again. An item that carries the
// same key as an earlier one is skipped: the first decides for the record they name.
//
// Relating means: belongs_to sets the source attribute; has_one and has_many set the
// destination attribute through the destination's update action; many_to_many creates a
// join record (with the input's join_keys values) through the join resource's create
// action. Unrelating clears that attribute, or destroys the join record. Relationships
// with no_attributes have nothing to set: relating and unrelating do nothing.
//
// belongs_to is managed in before_action (the source attribute is written with the
// record); the others in after_action, and in destroy actions everything is managed after
// the main action, as in Ash. Every nested action writes its own event under the parent's
// transaction and correlation ids; when any of them fails, the parent action fails and
// nothing is kept. Errors name the path into the input ("comments[2].body").

#include <ashlar/model/export.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ashlar::manage {

// The five types, each a set of defaults for the options below (an option given beside
// a type replaces that type's default; with no type, every option defaults to ignore):
//   append ............. on_lookup relate, on_no_match error, on_match ignore, on_missing ignore
//   append_and_remove .. on_lookup relate, on_no_match error, on_match ignore, on_missing unrelate
//   remove ............. on_lookup ignore, on_no_match error, on_match unrelate, on_missing ignore
//   direct_control ..... on_lookup ignore, on_no_match create, on_match update, on_missing destroy
//   create ............. on_lookup ignore, on_no_match create, on_match ignore, on_missing ignore
enum class Type : std::uint8_t { append, append_and_remove, remove, direct_control, create };

enum class Lookup : std::uint8_t { ignore, relate };
enum class NoMatch : std::uint8_t { ignore, create, error };
enum class Match : std::uint8_t { ignore, update, unrelate, error };
enum class Missing : std::uint8_t { ignore, unrelate, destroy };

// What to do, and through which action (empty: the primary action of its type). The
// action is the destination's update action that relates (has_one, has_many) or the join
// resource's create action (many_to_many) for relate; the destination's create, update
// or destroy action for create, update and destroy.
template <typename Kind>
struct Handling {
  Kind kind;
  std::string action{};
  Handling(Kind k, std::string a = {}) : kind(k), action(std::move(a)) {}  // NOLINT: implicit by design
};
using OnLookup = Handling<Lookup>;
using OnNoMatch = Handling<NoMatch>;
using OnMatch = Handling<Match>;
using OnMissing = Handling<Missing>;

struct ASHLAR_API Options {
  std::optional<Type> type{};
  // Simple values in the input are values of this attribute of the destination (its
  // primary key, or the attribute of a single-attribute identity).
  std::string value_is_key{};
  // Identities to match and look up by, "_primary_key" for the primary key; empty: the
  // primary key alone (and value_is_key's identity, when it names one).
  std::vector<std::string> use_identities{};
  std::optional<OnLookup> on_lookup{};
  std::optional<OnNoMatch> on_no_match{};
  std::optional<OnMatch> on_match{};
  std::optional<OnMissing> on_missing{};
  // many_to_many: attributes of the join resource whose values the input carries; they
  // are written on the join record it creates (and updated on it when on_match updates).
  std::vector<std::string> join_keys{};
};

ASHLAR_API const char* to_string(Type type);

}  // namespace ashlar::manage
