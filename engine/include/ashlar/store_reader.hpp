#pragma once
// Reading a store from outside the program that writes it: read-only, decoded with the
// model stored in the log, through the same reads as the Engine — filters, sorts,
// pagination, read actions and batched loads. The command line's `ashlar query` is
// built on it; so can a report or a dashboard running beside the writer.
//
//   auto store = ashlar::StoreReader::open("./helpdesk-data").value();
//   auto open = store.read("Ticket", {.filter = ashlar::parse_expr("status == :open").value(),
//                                     .load = {"representative"}}).value();
//
// Use it from another process than the writer's: LMDB forbids opening one environment
// twice in a process (its locks would break), so beside an Engine in the same process,
// read through that Engine.
//
// The stored model holds names, types, read actions (their arguments, filter, sort and
// limit), relationships, identities and aggregates, but no code. Reads never need
// default functions; a manual relationship's loader, though, lives only in the program
// that declared it, so a read that would load or follow one is an Invalid error naming
// it rather than a silently empty answer.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ashlar {

class ASHLAR_API StoreReader {
 public:
  // Opens the store in directory `path` read-only (any number of readers may run beside
  // the writer) and decodes its stored model. Framework when `path` is not an ashlar
  // store, has a format version this build does not know, or holds no model yet (no
  // engine has opened it); the message names the directory. Codes: framework,
  // store_not_initialized (its first open has not finished), store_damaged (data.mdb
  // shorter than its meta pages say), decode_error (a stored model that does not decode).
  static Result<StoreReader> open(const std::string& path);

  StoreReader(StoreReader&&) noexcept;
  StoreReader& operator=(StoreReader&&) noexcept;
  ~StoreReader();

  // The stored model the records are decoded with.
  const Domain& domain() const;
  const Log& log() const;

  // As Engine::read, in a snapshot of its own: the read action (by name, or the primary
  // read) with its arguments, and the query's filter, sort, pagination, loads and select.
  // Framework for an unknown resource or action; Invalid (invalid_input) for unknown
  // attributes, arguments or relationships, a bad cursor, or a manual relationship to
  // load; too_complex for a filter or sort past its limits; decode_error for a stored
  // record that does not decode.
  Result<std::vector<Record>> read(std::string_view resource, const Query& query = {}) const;
  // As Engine::get: the record with primary key `id` (a map for composite keys) if the
  // read action's and the query's filters keep it; NotFound (not_found) otherwise, saying
  // where the record stood for a read as_of a point in the past.
  Result<Record> get(std::string_view resource, const Value& id, const Query& query = {}) const;

 private:
  struct Impl;
  explicit StoreReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
