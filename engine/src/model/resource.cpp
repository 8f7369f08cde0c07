#include <ashlar/model/resource.hpp>

#include <algorithm>

namespace ashlar {

const char* to_string(ActionType type) {
  switch (type) {
    case ActionType::create: return "create";
    case ActionType::read: return "read";
    case ActionType::update: return "update";
    case ActionType::destroy: return "destroy";
  }
  return "?";
}

std::optional<ActionType> parse_action_type(std::string_view name) {
  for (auto t : {ActionType::create, ActionType::read, ActionType::update, ActionType::destroy})
    if (name == to_string(t)) return t;
  return std::nullopt;
}

bool Action::accepts(std::string_view attribute) const {
  return std::find(accept.begin(), accept.end(), attribute) != accept.end();
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

const Action* Resource::primary_action(ActionType type) const {
  for (const auto& a : actions_)
    if (a.type == type && a.primary) return &a;
  return nullptr;
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
