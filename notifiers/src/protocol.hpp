#pragma once
// The messages of notifiers/PROTOCOL.md that are not events: heads, heartbeats, and the
// replay service's requests and replies (JSON, so any language reads them).

#include <ashlar/eventlog/log.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ashlar::protocol {

// Where the log ends: the last position, and each resource's last sequence.
struct Heads {
  std::uint64_t position = 0;
  std::map<std::string, std::uint64_t, std::less<>> sequences;

  // The last key of a stream: the head position for the domain (resource empty), else
  // the resource's last sequence (0 when it has none).
  std::uint64_t last(std::string_view resource) const;
  void advance(std::string_view resource, std::uint64_t position, std::uint64_t sequence);
};

// The heads in the snapshot `txn`, for the given resources.
Result<Heads> read_heads(const Log& log, const Txn& txn, const std::vector<std::string>& resources);

// The names of the resources in a stored model (JSON), or an Unknown error.
Result<std::vector<std::string>> model_resources(const nlohmann::json& model);

// {"domain": ..., "head": N, "sequences": {"User": S, ...}}
std::string heartbeat(std::string_view domain, const Heads& heads);
// Reads "head" and "sequences" from a heartbeat or a reply; nullopt when malformed.
std::optional<Heads> parse_heads(const nlohmann::json& json);

// A request to the replay service: replay a stream from a key, with an id it echoes.
struct ReplayRequest {
  std::uint64_t id = 0;
  std::string resource;  // empty: the domain's stream of positions
  std::string tenant;    // empty: every tenant's events
  std::uint64_t from = 1;
  std::size_t limit = 1000;
};
std::string encode(const ReplayRequest& request);

}  // namespace ashlar::protocol
