#include "store.hpp"

#include <ashlar/eventlog/stored_domain.hpp>

#include <fmt/format.h>

namespace ashlar::cli {

Result<Store> open_store(const std::string& dir) {
  ASHLAR_TRY(log, Log::open_read_only(dir));
  ASHLAR_TRY(domain, stored_domain(**log));
  return Store{dir, std::move(*log), std::move(*domain)};
}

}  // namespace ashlar::cli
