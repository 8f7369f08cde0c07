#pragma once
// Tampering with a closed store the way an attacker or a failing disk would: bytes
// flipped in data.mdb itself, or entries rewritten through raw LMDB, bypassing ashlar.

#include <ashlar/eventlog/bytes.hpp>
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace ashlar::test {

// Where this process mapped `file` (from /proc/self/maps), or 0.
inline std::uintptr_t mapped_at(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  std::string canonical = std::filesystem::canonical(file).string();
  for (std::string line; std::getline(maps, line);) {
    if (line.size() < canonical.size() || line.compare(line.size() - canonical.size(), canonical.size(), canonical) != 0)
      continue;
    std::istringstream fields(line);
    std::string range, perms, offset;
    fields >> range >> perms >> offset;
    if (std::stoull(offset, nullptr, 16) == 0) return std::stoull(range.substr(0, range.find('-')), nullptr, 16);
  }
  return 0;
}

// Where in data.mdb the value stored under `key` in `database` begins: LMDB maps the
// whole file from offset 0, and a read-only environment's values point into that map.
inline std::size_t value_offset(const std::string& dir, const std::string& database, const std::string& key,
                                std::string* value = nullptr) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 1024);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) == 0);
  std::uintptr_t map = mapped_at(dir + "/data.mdb");
  REQUIRE(map != 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, database.c_str(), 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v{};
  REQUIRE(mdb_get(txn, dbi, &k, &v) == 0);
  std::size_t offset = reinterpret_cast<std::uintptr_t>(v.mv_data) - map;
  if (value) value->assign(static_cast<char*>(v.mv_data), v.mv_size);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return offset;
}

// Flips one bit of the byte of data.mdb at `offset`.
inline void flip_byte(const std::string& dir, std::size_t offset) {
  int fd = ::open((dir + "/data.mdb").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  unsigned char byte = 0;
  REQUIRE(::pread(fd, &byte, 1, static_cast<off_t>(offset)) == 1);
  byte ^= 0x01;
  REQUIRE(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

// Flips a byte of the value under `key` in `database`, in the file: inside `needle`
// (a string the value contains, so that it still decodes), else its middle byte.
inline void flip_value_byte(const std::string& dir, const std::string& database, const std::string& key,
                            const std::string& needle = {}) {
  std::string value;
  std::size_t offset = value_offset(dir, database, key, &value);
  std::size_t at = needle.empty() ? std::string::npos : value.find(needle);
  flip_byte(dir, offset + (at == std::string::npos ? value.size() / 2 : at + 1));
}

// Writes an entry (or deletes it, with an empty value) through raw LMDB.
inline void poke_entry(const std::string& dir, const std::string& database, const std::string& key,
                       const std::string& value, bool erase = false) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 1024);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, database.c_str(), 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
  REQUIRE((erase ? mdb_del(txn, dbi, &k, nullptr) : mdb_put(txn, dbi, &k, &v, 0)) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

// Replaces the bytes of the event at `position` in a closed format 2 store and keeps the
// chain hash its entry begins with, as an attacker rewriting an event would.
inline void poke_event_bytes(const std::string& dir, std::uint64_t position, const std::string& bytes) {
  std::string value;
  value_offset(dir, "events", be64(position), &value);
  REQUIRE(value.size() >= 32);
  poke_entry(dir, "events", be64(position), value.substr(0, 32) + bytes);
}

// The page size of a closed store and the size its newest meta page says data.mdb needs:
// (last page + 1) * page size.
struct DataSize {
  std::size_t page_size = 0;
  std::size_t needed = 0;
};
inline DataSize data_size(const std::string& dir) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) == 0);
  MDB_envinfo info{};
  MDB_stat st{};
  REQUIRE(mdb_env_info(env, &info) == 0);
  REQUIRE(mdb_env_stat(env, &st) == 0);
  mdb_env_close(env);
  return {st.ms_psize, (info.me_last_pgno + 1) * st.ms_psize};
}

// Cuts data.mdb to `size` bytes, as a full disk or an interrupted copy leaves it.
inline void truncate_data(const std::string& dir, std::size_t size) {
  std::filesystem::resize_file(dir + "/data.mdb", size);
}

// Overwrites the whole page of data.mdb at `offset` with `fill`, or with bytes that
// follow no pattern when fill is empty.
inline void overwrite_page(const std::string& dir, std::size_t offset, std::optional<unsigned char> fill) {
  std::size_t page_size = data_size(dir).page_size;
  std::string page(page_size, static_cast<char>(fill.value_or(0)));
  if (!fill)
    for (std::size_t i = 0; i < page.size(); ++i) page[i] = static_cast<char>((i * 167 + 91) ^ (i >> 3));
  int fd = ::open((dir + "/data.mdb").c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  off_t start = static_cast<off_t>(offset - offset % page_size);
  REQUIRE(::pwrite(fd, page.data(), page.size(), start) == static_cast<ssize_t>(page.size()));
  ::close(fd);
}

}  // namespace ashlar::test
