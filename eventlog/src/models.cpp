// The stored model and its versions (meta "model", "model_version", "models/<n>").
#include <ashlar/eventlog/log.hpp>
#include <ashlar/eventlog/stored_domain.hpp>
#include <ashlar/model/json.hpp>

#include "keys.hpp"

#include <fmt/format.h>

namespace ashlar {
namespace {
constexpr std::string_view kModelKey = "model";
constexpr std::string_view kVersionKey = "model_version";
constexpr std::string_view kVersionsPrefix = "models/";

std::string version_key(std::uint64_t version) { return std::string(kVersionsPrefix) + keys::be64(version); }
}  // namespace

Result<std::optional<std::string>> Log::model(const Txn& txn) const { return get_meta(txn, kModelKey); }

Result<std::vector<StoredModel>> Log::models(const Txn& txn) const {
  std::vector<StoredModel> out;
  auto scanned = scan_meta(txn, kVersionsPrefix, [&](std::string_view key, std::string_view value) {
    if (key.size() != kVersionsPrefix.size() + 8 || value.size() < 8) return true;
    out.push_back({keys::read_be64(key.substr(kVersionsPrefix.size())), keys::read_be64(value),
                   std::string(value.substr(8))});
    return true;
  });
  if (!scanned) return fail(scanned.error());
  if (!out.empty()) return out;
  ASHLAR_TRY(current, model(txn));
  if (*current) out.push_back({1, 1, std::move(**current)});
  return out;
}

Result<void> Log::put_model(Txn& txn, std::string_view json) {
  ASHLAR_TRY(versions, models(txn));
  ASHLAR_TRY(stored_version, get_meta(txn, kVersionKey));
  if (!*stored_version && !versions->empty()) {
    // A store from before versions: its model becomes version 1.
    const StoredModel& first = versions->front();
    ASHLAR_TRY_VOID(put_meta(txn, version_key(1), keys::be64(first.since) + first.json));
    ASHLAR_TRY_VOID(put_meta(txn, kVersionKey, keys::be64(1)));
  }
  if (!versions->empty() && versions->back().json == json) return {};
  ASHLAR_TRY(h, head(txn));
  std::uint64_t next = versions->empty() ? 1 : versions->back().version + 1;
  ASHLAR_TRY_VOID(put_meta(txn, version_key(next), keys::be64(h->position + 1) + std::string(json)));
  ASHLAR_TRY_VOID(put_meta(txn, kVersionKey, keys::be64(next)));
  return put_meta(txn, kModelKey, json);
}

Result<Domain> stored_domain(const Log& log) {
  std::optional<std::string> json;
  {
    ASHLAR_TRY(txn, log.read());
    ASHLAR_TRY(stored, log.model(*txn));
    json = std::move(*stored);
  }  // the snapshot ends here: the caller takes its own
  if (!json)
    return fail(Error::framework(fmt::format("{} has no stored model: no ashlar engine has opened it, so there "
                                             "is nothing to read",
                                             log.path())));
  auto domain = domain_from_json(*json);
  if (!domain) {
    Error e = domain.error();
    e.message = fmt::format("{}: {}", log.path(), e.message);
    return fail(std::move(e));
  }
  return std::move(*domain);
}

}  // namespace ashlar
