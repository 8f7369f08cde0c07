#include <ashlar/notifiers/topics.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

std::string hex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += {kHex[b >> 4], kHex[b & 0xF]};
  return out;
}

bool is_key(const Resource& r, std::string_view attribute) {
  const Attribute* a = r.attribute(attribute);
  return a && a->primary_key;
}

// The value of `attribute` in the first of `sources` that has it; nil when none does.
Value lookup(std::string_view attribute, std::initializer_list<const Fields*> sources) {
  for (const Fields* fields : sources)
    if (const Value* v = find_field(*fields, attribute)) return *v;
  return Value();
}

std::string render(const Event& e, const Resource& r, const TopicTemplate& t,
                   std::initializer_list<const Fields*> sources) {
  std::string topic = topic_prefix(e.domain, r.name());
  for (std::size_t i = 0; i < t.parts.size(); ++i) {
    const std::string& part = t.parts[i];
    if (i > 0) topic += '.';
    if (part == kTenantTopicPart)
      topic += tenant_topic_text(e.tenant);
    else if (part.size() > 1 && part[0] == ':')
      topic += topic_text(lookup(std::string_view(part).substr(1), sources));
    else
      topic += part;
  }
  return topic;
}

}  // namespace

std::string topic_prefix(std::string_view domain, std::string_view resource, std::string_view action) {
  std::string out = fmt::format("{}.", domain);
  if (!resource.empty()) out += fmt::format("{}.", resource);
  if (!resource.empty() && !action.empty()) out += fmt::format("{}.", action);
  return out;
}

std::string topic_text(const Value& v) {
  if (v.is_null()) return {};
  if (const auto* s = v.as_string()) return *s;
  if (const auto* a = v.as_atom()) return a->name;
  if (const auto* b = v.as_binary()) return hex(b->bytes);
  if (const auto* b = v.as_bool()) return *b ? "true" : "false";
  if (const auto* i = v.as_int()) return std::to_string(*i);
  if (const auto* f = v.as_float()) return fmt::format("{}", *f);
  return v.str();  // uuid, datetime, date: canonical text
}

std::string tenant_topic_text(std::string_view tenant) {
  return tenant.empty() ? std::string(kNoTenantTopicText) : std::string(tenant);
}

std::string default_topic(const Event& e) { return default_topic(e.domain, e.resource, e.action, e.key); }

// Built by appending: it runs once per published event.
std::string default_topic(std::string_view domain, std::string_view resource, std::string_view action,
                          const Fields& key) {
  std::string topic;
  topic.reserve(domain.size() + resource.size() + action.size() + 3 + 36 * key.size());
  topic.append(domain).append(1, '.').append(resource).append(1, '.').append(action);
  for (const auto& [name, value] : key) topic.append(1, '.').append(topic_text(value));
  return topic;
}

std::vector<std::string> template_attributes(const Resource& r, std::string_view action) {
  std::vector<std::string> out;
  for (const auto& t : r.topics()) {
    if (t.action != action) continue;
    for (const auto& part : t.parts) {
      if (part.size() < 2 || part[0] != ':' || part == kTenantTopicPart) continue;
      std::string name = part.substr(1);
      if (!is_key(r, name) && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> event_topics(const Resource& r, const Event& e, const Fields& before) {
  std::vector<std::string> topics;
  auto add = [&](std::string topic) {
    if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(std::move(topic));
  };
  for (const auto& t : r.topics()) {
    if (t.action != e.action) continue;
    if (e.type != ActionType::create) add(render(e, r, t, {&e.key, &before}));
    if (e.type != ActionType::destroy) add(render(e, r, t, {&e.key, &e.changes, &before}));
  }
  if (topics.empty()) add(default_topic(e));
  return topics;
}

}  // namespace ashlar
