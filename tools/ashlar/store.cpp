#include "store.hpp"

#include <fmt/format.h>

namespace ashlar::cli {

Result<Store> open_store(const std::string& dir) {
  auto log = Log::open_read_only(dir);
  if (!log) return fail(log.error());
  std::optional<std::string> json;
  {
    auto txn = (*log)->read();
    if (!txn) return fail(txn.error());
    auto stored = (*log)->model(*txn);
    if (!stored) return fail(stored.error());
    json = std::move(*stored);
  }  // the snapshot ends here; each command takes its own
  if (!json)
    return fail(Error::framework(
        fmt::format("{} has no stored model: no ashlar engine has opened it, so its events cannot be "
                    "decoded with their resources",
                    dir)));
  auto domain = domain_from_json(*json);
  if (!domain) {
    Error e = domain.error();
    e.message = fmt::format("{}: {}", dir, e.message);
    return fail(std::move(e));
  }
  return Store{dir, std::move(*log), std::move(*domain)};
}

}  // namespace ashlar::cli
