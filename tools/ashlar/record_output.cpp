#include "record_output.hpp"

#include "event_output.hpp"

#include <ashlar/model/json.hpp>

#include <fmt/format.h>

namespace ashlar::cli {
namespace {

using nlohmann::ordered_json;

// The record's attributes and loaded aggregates and calculations as (name, shown value) pairs.
template <typename Show>
void each_value(const Record& record, const std::vector<Load>& loads, Show&& show) {
  for (const auto& attribute : record.resource().attributes()) {
    const Value& value = record[attribute.name];
    show(attribute.name, attribute.sensitive ? nullptr : &value);
  }
  for (const auto& load : loads)
    if (!record.resource().relationship(load.name) &&
        (record.resource().aggregate(load.name) || record.resource().calculation(load.name)))
      show(load.name, &record[load.name]);
}

std::string fields_text(const Record& record, const std::vector<Load>& loads) {
  std::string out;
  each_value(record, loads, [&](const std::string& name, const Value* value) {
    out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", name, value ? value_to_text(*value) : kRedacted);
  });
  return record.resource().name() + " {" + out + "}";
}

void append_text(const Record& record, const std::vector<Load>& loads, std::size_t indent,
                 std::vector<std::string>& lines) {
  for (const auto& load : loads) {
    const Relationship* rel = record.resource().relationship(load.name);
    if (!rel) continue;
    std::string lead = std::string(indent, ' ') + load.name + ": ";
    const auto& related = record.related(load.name);
    if (related.empty()) lines.push_back(lead + (rel->to_one() ? "nil" : "[]"));
    for (const auto& r : related) {
      lines.push_back(lead + fields_text(r, load.query.load));
      append_text(r, load.query.load, indent + 2, lines);
    }
  }
}

}  // namespace

ordered_json record_to_json(const Record& record, const std::vector<Load>& loads) {
  ordered_json out = ordered_json::object();
  each_value(record, loads, [&](const std::string& name, const Value* value) {
    out[name] = value ? ordered_json(value_to_json(*value)) : ordered_json(std::string(kRedacted));
  });
  for (const auto& load : loads) {
    const Relationship* rel = record.resource().relationship(load.name);
    if (!rel) continue;
    const auto& related = record.related(load.name);
    if (rel->to_one()) {
      out[load.name] = related.empty() ? ordered_json(nullptr) : record_to_json(related.front(), load.query.load);
      continue;
    }
    ordered_json list = ordered_json::array();
    for (const auto& r : related) list.push_back(record_to_json(r, load.query.load));
    out[load.name] = std::move(list);
  }
  return out;
}

std::vector<std::string> record_to_text(const Record& record, const std::vector<Load>& loads) {
  std::vector<std::string> lines{fields_text(record, loads)};
  append_text(record, loads, 2, lines);
  return lines;
}

}  // namespace ashlar::cli
