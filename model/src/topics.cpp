#include "topics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

// Topics are matched by prefix and split on "." by consumers, so a literal part holds
// no "." and nothing a shell or a log line would mangle.
bool valid_literal(std::string_view part) {
  return !part.empty() && std::none_of(part.begin(), part.end(), [](char c) {
    return c == '.' || static_cast<unsigned char>(c) <= ' ' || c == 0x7F;
  });
}

// The problem with one ":attribute" part, or an empty string.
std::string attribute_problem(const Resource& r, std::string_view name, std::string& code) {
  const Attribute* a = r.attribute(name);
  if (!a) {
    code = "unknown_attribute";
    return fmt::format("the topic names \":{}\", which is not an attribute of {}", name, r.name());
  }
  if (a->sensitive) {
    code = "sensitive_in_topic";
    return fmt::format("the topic names \":{}\", a sensitive attribute; topics are not redacted", name);
  }
  if (a->type.kind == TypeKind::map || a->type.kind == TypeKind::array) {
    code = "invalid_topic";
    return fmt::format("the topic names \":{}\", of type {}; only scalar values fit in a topic", name,
                       a->type.name());
  }
  return {};
}

}  // namespace

std::vector<TopicTemplate> check_topics(const Resource& r, const std::vector<TopicTemplate>& declared,
                                        std::vector<FieldError>& problems) {
  std::vector<TopicTemplate> valid;
  for (const auto& t : declared) {
    std::string where = r.name() + ".publish." + t.action;
    std::size_t before = problems.size();
    const Action* action = r.action(t.action);
    if (!action)
      problems.push_back({where, "unknown_action", fmt::format("{} has no action named {}", r.name(), t.action)});
    else if (action->type == ActionType::read)
      problems.push_back({where, "not_publishable", "read actions change nothing and publish no events"});
    if (t.parts.empty()) problems.push_back({where, "empty_topic", "a topic needs at least one part"});
    for (const auto& part : t.parts) {
      std::string code;
      std::string why;
      if (part == kTenantTopicPart)
        continue;  // the event's tenant, whatever the resource's attributes
      if (part.size() > 1 && part[0] == ':')
        why = attribute_problem(r, std::string_view(part).substr(1), code);
      else if (!valid_literal(part)) {
        code = "invalid_topic";
        why = fmt::format("the topic part \"{}\" must be a non-empty literal without \".\" or white space, "
                          "\":attribute\" or \":tenant\"",
                          part);
      }
      if (!why.empty()) problems.push_back({where, code, why});
    }
    if (problems.size() == before) valid.push_back(t);
  }
  return valid;
}

}  // namespace ashlar
