#pragma once
// Verifying a store: the log (its hash chain, positions and stream indexes, see
// Log::check) and the projections, whose live tables must equal a replay of the log
// folded into memory, entry by entry. Costs one pass over the log and memory for the
// replayed state.

#include <ashlar/model/export.hpp>
#include <ashlar/projections/rebuild.hpp>

namespace ashlar {

struct ASHLAR_API VerifyOptions {
  std::string chain_key{};  // the chain's key when it is keyed
  // Also prove h(expect_position) == expect_hash (0: no such check).
  std::uint64_t expect_position = 0;
  Hash expect_hash{};
  Upcast upcast{};
  // Every so often, with the position reached and the head.
  std::function<void(std::uint64_t position, std::uint64_t head)> progress{};
  // First read every page of the store in a child process (Log::check_pages): a damaged
  // page is then an error (store_damaged) instead of a fault in this process. Costs a
  // read of the whole file.
  bool deep = false;
};

struct ASHLAR_API VerifyReport {
  Head head{};
  std::uint64_t events = 0;
  std::vector<std::string> problems{};  // each names the position, table or record
  bool ok() const { return problems.empty(); }
};

// Checks, in one snapshot, the log (Log::check), the stored model (every version decodes,
// meta/model is the latest one, and each event's resource and attributes are in the model
// it was written under) and the targets' live tables. Problems are reported, not returned
// as errors; an error means the store could not be read at all: with `deep`, store_damaged
// when a page is damaged. `domain` (optional) names records by their primary key in the
// problems. An event that does not decode is a problem naming its position ("event at
// position 17 does not decode: ..."), and the projections are then not compared.
Result<VerifyReport> verify(Log& log, const std::vector<RebuildTarget>& targets, const VerifyOptions& options = {},
                            const Domain* domain = nullptr);

}  // namespace ashlar
