#include "protocol.hpp"

namespace ashlar::protocol {

using nlohmann::json;

std::uint64_t Heads::last(std::string_view resource) const {
  if (resource.empty()) return position;
  auto it = sequences.find(resource);
  return it == sequences.end() ? 0 : it->second;
}

void Heads::advance(std::string_view resource, std::uint64_t at, std::uint64_t sequence) {
  position = std::max(position, at);
  auto it = sequences.find(resource);
  if (it == sequences.end())
    sequences.emplace(std::string(resource), sequence);
  else
    it->second = std::max(it->second, sequence);
}

Result<Heads> read_heads(const Log& log, const Txn& txn, const std::vector<std::string>& resources) {
  Heads heads;
  ASHLAR_TRY(head, log.head(txn));
  heads.position = head->position;
  for (const auto& r : resources) {
    ASHLAR_TRY(last, log.last_sequence(txn, r));
    heads.sequences[r] = *last;
  }
  return heads;
}

Result<std::vector<std::string>> model_resources(const json& model) {
  std::vector<std::string> out;
  try {
    for (const auto& r : model.at("resources")) out.push_back(r.at("name").get<std::string>());
  } catch (const json::exception& e) {
    return fail(Error::unknown(std::string("the stored model does not decode: ") + e.what()));
  }
  return out;
}

std::string heartbeat(std::string_view domain, const Heads& heads) {
  json sequences = json::object();
  for (const auto& [name, sequence] : heads.sequences) sequences[name] = sequence;
  return json{{"domain", domain}, {"head", heads.position}, {"sequences", sequences}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Heads> parse_heads(const json& j) {
  if (!j.is_object() || !j.contains("head") || !j["head"].is_number_unsigned()) return std::nullopt;
  Heads heads;
  heads.position = j["head"].get<std::uint64_t>();
  if (j.contains("sequences") && j["sequences"].is_object())
    for (const auto& [name, sequence] : j["sequences"].items())
      if (sequence.is_number_unsigned()) heads.sequences[name] = sequence.get<std::uint64_t>();
  return heads;
}

std::string encode(const ReplayRequest& r) {
  json j = {{"op", "replay"}, {"id", r.id}, {"from", r.from}, {"limit", r.limit}};
  if (!r.resource.empty()) j["resource"] = r.resource;
  if (!r.tenant.empty()) j["tenant"] = r.tenant;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ashlar::protocol
