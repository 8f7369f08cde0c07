#include "store.hpp"

#include <ashlar/eventlog/stored_domain.hpp>

#include <fmt/format.h>

namespace ashlar::cli {

Result<Store> open_store(const std::string& dir) {
  auto log = Log::open_read_only(dir);
  if (!log) return fail(log.error());
  auto domain = stored_domain(**log);
  if (!domain) return fail(domain.error());
  return Store{dir, std::move(*log), std::move(*domain)};
}

}  // namespace ashlar::cli
