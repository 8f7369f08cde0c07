#include <ashlar/model/resource.hpp>

#include "access.hpp"

#include <algorithm>

namespace ashlar {

const char* to_string(ActionType type) {
  switch (type) {
    case ActionType::create: return "create";
    case ActionType::read: return "read";
    case ActionType::update: return "update";
    case ActionType::destroy: return "destroy";
    case ActionType::generic: return "generic";
  }
  return "?";
}

std::string an_action(ActionType type) {
  std::string name = to_string(type);
  return (type == ActionType::update ? "an " : "a ") + name + " action";
}

std::optional<ActionType> parse_action_type(std::string_view name) {
  for (auto t : {ActionType::create, ActionType::read, ActionType::update, ActionType::destroy, ActionType::generic})
    if (name == to_string(t)) return t;
  return std::nullopt;
}

bool Action::accepts(std::string_view attribute) const {
  return std::find(accept.begin(), accept.end(), attribute) != accept.end();
}

const Argument* Action::argument(std::string_view name) const {
  for (const auto& a : arguments)
    if (a.name == name) return &a;
  return nullptr;
}

const Attribute* Resource::attribute(std::string_view name) const {
  auto i = attribute_index(name);
  return i ? &attributes_[*i] : nullptr;
}

std::optional<std::size_t> Resource::attribute_index(std::string_view name) const {
  for (std::size_t i = 0; i < attributes_.size(); ++i)
    if (attributes_[i].name == name) return i;
  return std::nullopt;
}

const Action* Resource::action(std::string_view name) const {
  for (const auto& a : actions_)
    if (a.name == name) return &a;
  return nullptr;
}

const CodeInterface* Resource::interface(std::string_view name) const {
  for (const auto& i : interfaces_)
    if (i.name == name) return &i;
  return nullptr;
}

const Attribute* Resource::tenant_attribute() const {
  return multitenancy_.strategy == Multitenancy::attribute ? attribute(multitenancy_.attribute) : nullptr;
}

const Action* Resource::primary_action(ActionType type) const {
  for (const auto& a : actions_)
    if (a.type == type && a.primary) return &a;
  return nullptr;
}

const Relationship* Resource::relationship(std::string_view name) const {
  for (const auto& r : relationships_)
    if (r.name == name) return &r;
  return nullptr;
}

const Identity* Resource::identity(std::string_view name) const {
  for (const auto& i : identities_)
    if (i.name == name) return &i;
  return nullptr;
}

const Aggregate* Resource::aggregate(std::string_view name) const {
  for (const auto& [n, a] : aggregates_)
    if (n == name) return &a;
  return nullptr;
}

const CalculationDef* Resource::calculation(std::string_view name) const {
  for (const auto& c : calculations_)
    if (c.name == name) return &c;
  return nullptr;
}

const Argument* CalculationDef::argument(std::string_view arg) const {
  for (const auto& a : arguments)
    if (a.name == arg) return &a;
  return nullptr;
}

bool Resource::indexed(std::string_view attribute) const {
  return std::find(indexed_.begin(), indexed_.end(), attribute) != indexed_.end();
}

const char* to_string(RelationshipKind kind) {
  switch (kind) {
    case RelationshipKind::belongs_to: return "belongs_to";
    case RelationshipKind::has_one: return "has_one";
    case RelationshipKind::has_many: return "has_many";
    case RelationshipKind::many_to_many: return "many_to_many";
  }
  return "?";
}

std::optional<RelationshipKind> parse_relationship_kind(std::string_view name) {
  for (auto k : {RelationshipKind::belongs_to, RelationshipKind::has_one, RelationshipKind::has_many,
                 RelationshipKind::many_to_many})
    if (name == to_string(k)) return k;
  return std::nullopt;
}

// As Elixir's Macro.underscore: a word starts at a capital after a lower-case letter or a
// digit, and at the last capital of a run followed by a lower-case letter, so an
// abbreviation stays one word (HTTPClient: http_client).
std::string snake_case(std::string_view name) {
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (upper(c)) {
      bool starts_word = i > 0 && (lower(name[i - 1]) || digit(name[i - 1]) ||
                                   (upper(name[i - 1]) && i + 1 < name.size() && lower(name[i + 1])));
      if (starts_word) out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {
const std::string kEmpty;
const std::vector<Resource> kNoResources;
}  // namespace

const std::string& Domain::name() const { return data_ ? data_->name : kEmpty; }

const std::vector<Resource>& Domain::resources() const {
  return data_ ? data_->resources : kNoResources;
}

const Resource* Domain::resource(std::string_view name) const {
  for (const auto& r : resources())
    if (r.name() == name) return &r;
  return nullptr;
}

}  // namespace ashlar
