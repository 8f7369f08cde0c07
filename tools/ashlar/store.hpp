#pragma once
// Opening a store for the command line: read-only, with the model stored in it, so any
// log prints without the program that wrote it.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/resource.hpp>

#include <memory>
#include <string>

namespace ashlar::cli {

struct Store {
  std::string path;
  std::unique_ptr<Log> log;
  Domain domain;  // the stored model
};

// Opens the store in `dir` read-only (beside a running writer, if any) and loads its
// model. Framework when `dir` is not an ashlar store (missing, no data.mdb, an empty one,
// not LMDB), is not initialized yet (store_not_initialized), has a format version this
// build does not know, or holds no model; store_damaged when data.mdb is shorter than its
// meta pages say. The message names the directory.
Result<Store> open_store(const std::string& dir);

}  // namespace ashlar::cli
