// Named databases opened inside a transaction, and the list of those the store holds:
// what per-tenant projections (context multitenancy) create on first use.
#include <ashlar/eventlog/txn.hpp>

#include <fmt/format.h>
#include <lmdb.h>

namespace ashlar {

Result<std::optional<Db>> Txn::open_database(const std::string& name, bool dupsort, bool create) const {
  if (name.empty() || name.find('\0') != std::string::npos)
    return fail(Error::framework(fmt::format("\"{}\" is not a database name", name)));
  MDB_dbi dbi = 0;
  unsigned flags = (create && writable_ ? MDB_CREATE : 0) | (dupsort ? MDB_DUPSORT : 0);
  int rc = mdb_dbi_open(txn_, name.c_str(), flags, &dbi);
  if (rc == MDB_NOTFOUND) return std::optional<Db>{};
  if (rc == MDB_DBS_FULL)
    return fail(Error::unknown(fmt::format("opening database {}: the store has as many named databases open "
                                           "as it may (max_databases)", name))
                    .with_code(codes::kStoreFull));
  if (rc != 0) return fail(lmdb_error(rc, "opening database " + name));
  return std::optional<Db>{Db{dbi, true}};
}

Result<std::vector<std::string>> Txn::database_names(std::string_view prefix) const {
  MDB_dbi main = 0;
  int rc = mdb_dbi_open(txn_, nullptr, 0, &main);
  if (rc != 0) return fail(lmdb_error(rc, "listing the databases"));
  MDB_cursor* c = nullptr;
  rc = mdb_cursor_open(txn_, main, &c);
  if (rc != 0) return fail(lmdb_error(rc, "listing the databases"));
  std::vector<std::string> names;
  MDB_val key{prefix.size(), const_cast<char*>(prefix.data())}, value{};
  rc = mdb_cursor_get(c, &key, &value, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
  for (; rc == 0; rc = mdb_cursor_get(c, &key, &value, MDB_NEXT)) {
    std::string_view k(static_cast<const char*>(key.mv_data), key.mv_size);
    if (!k.starts_with(prefix)) break;
    names.emplace_back(k);
  }
  mdb_cursor_close(c);
  if (rc != 0 && rc != MDB_NOTFOUND) return fail(lmdb_error(rc, "listing the databases"));
  return names;
}

}  // namespace ashlar
