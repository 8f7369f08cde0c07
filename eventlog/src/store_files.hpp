#pragma once
// The files of a store directory, looked at before LMDB maps anything: which of
// writer.lock, lock.mdb and data.mdb it holds, and whether data.mdb is as long as its
// meta pages say. LMDB itself trusts the file: a data.mdb shorter than the pages its
// meta page names is mapped anyway, and the first read past the end is a SIGBUS.

#include <ashlar/model/result.hpp>

#include <cstdint>
#include <string>

namespace ashlar::store_files {

struct Listing {
  bool writer_lock = false;     // writer.lock is there
  bool data = false;            // data.mdb is there
  std::uintmax_t data_size = 0;  // its size in bytes
  bool foreign = false;         // anything but writer.lock, lock.mdb and data.mdb
};

// What directory `dir` holds; an io_error when it cannot be listed.
Result<Listing> list(const std::string& dir);

// Neither data.mdb nor anything foreign, or an empty data.mdb beside writer.lock: what a
// first open leaves when it is killed before LMDB has written its meta pages (writer.lock
// is created first). Such a directory holds nothing yet.
bool uninitialized(const Listing& listing);

// data.mdb's two meta pages (LMDB 0.9's layout: a 16-byte page header, then MDB_meta),
// read with pread before anything maps the file.
struct DataFile {
  std::uint32_t page_size = 0;
  std::uint64_t size = 0;    // the file's size in bytes, taken after the meta pages were read
  std::uint64_t needed = 0;  // (last page + 1) * page size, from the newest meta page
};
// Framework "not an ashlar store" when page 0 is not an LMDB meta page of the data version
// this build reads; store_damaged when the file ends inside the meta pages, page 1 is not a
// meta page, or the page size is not one LMDB writes; io_error when it cannot be read. A
// file shorter than `needed` is left to the caller (see check_size).
Result<DataFile> read_meta(const std::string& dir);

// "DIR is damaged: data.mdb is N bytes, the store needs M", code store_damaged.
Error short_file(const std::string& dir, const DataFile& file);

// read_meta, then: a file at least `needed` long passes. A shorter one is walked
// (walk_pages), because LMDB may leave the pages at the end of the file unwritten when
// they were freed in the transaction that allocated them; it passes when no page the
// trees reference is missing, else it is short_file.
Result<void> check_size(const std::string& dir);

// Walks every page of every database of the store in `dir` through LMDB's cursors in a
// child process, so that a page that makes LMDB fault or assert ends the child, not the
// caller. store_damaged ("damaged store: ...") naming what the child met; an io_error
// when the child cannot be started.
Result<void> walk_pages(const std::string& dir);

}  // namespace ashlar::store_files
