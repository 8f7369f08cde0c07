// The store directory's files before LMDB maps them: the listing and data.mdb's meta pages.
#include "store_files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ashlar::store_files {
namespace fs = std::filesystem;

namespace {

// LMDB 0.9 (mdb.c): a page starts with pgno (8), pad (2), flags (2), lower/upper (4);
// a meta page's MDB_meta follows: magic, version, address, mapsize, two MDB_db of 48
// bytes (the first one's md_pad is the page size), last page number, txnid.
constexpr std::size_t kFlags = 10;
constexpr std::size_t kMagic = 16;
constexpr std::size_t kVersion = 20;
constexpr std::size_t kPageSize = 40;
constexpr std::size_t kLastPage = 136;
constexpr std::size_t kTxnid = 144;
constexpr std::size_t kMetaEnd = 152;
constexpr std::uint16_t kMetaFlag = 0x08;    // P_META
constexpr std::uint32_t kMagicValue = 0xBEEFC0DE;
constexpr std::uint32_t kDataVersion = 1;    // MDB_DATA_VERSION
constexpr std::uint32_t kMinPageSize = 512;
constexpr std::uint32_t kMaxPageSize = 65536;

template <typename T>
T at(const unsigned char* page, std::size_t offset) {
  T v;
  std::memcpy(&v, page + offset, sizeof v);
  return v;
}

struct Meta {
  bool valid = false;  // a meta page with LMDB's magic and data version
  std::uint32_t page_size = 0;
  std::uint64_t last_page = 0;
  std::uint64_t txnid = 0;
};

Meta parse(const unsigned char* page) {
  Meta m;
  m.valid = (at<std::uint16_t>(page, kFlags) & kMetaFlag) != 0 && at<std::uint32_t>(page, kMagic) == kMagicValue &&
            at<std::uint32_t>(page, kVersion) == kDataVersion;
  m.page_size = at<std::uint32_t>(page, kPageSize);
  m.last_page = at<std::uint64_t>(page, kLastPage);
  m.txnid = at<std::uint64_t>(page, kTxnid);
  return m;
}

Error damaged(const std::string& dir, std::string why) {
  return Error::unknown(fmt::format("{} is damaged: {}", dir, why)).with_code(codes::kStoreDamaged);
}

Error io_error(const std::string& what, int err) {
  return Error::unknown(fmt::format("{}: {}", what, std::strerror(err))).with_code(codes::kIoError);
}

// Fills `page` from `offset`; the number of bytes read (fewer at the end of the file).
Result<std::size_t> read_at(int fd, unsigned char* page, std::size_t size, std::uint64_t offset,
                            const std::string& file) {
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, page + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(io_error("reading " + file, errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<Listing> list(const std::string& dir) {
  Listing out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name == "writer.lock") out.writer_lock = true;
    else if (name == "data.mdb") {
      out.data = true;
      out.data_size = it->file_size(ec);
      if (ec) break;
    } else if (name != "lock.mdb") out.foreign = true;
  }
  if (ec) return fail(Error::unknown(fmt::format("cannot list {}: {}", dir, ec.message())).with_code(codes::kIoError));
  return out;
}

bool uninitialized(const Listing& listing) {
  if (listing.foreign) return false;
  return !listing.data || (listing.data_size == 0 && listing.writer_lock);
}

Result<DataFile> read_meta(const std::string& dir) {
  std::string file = (fs::path(dir) / "data.mdb").string();
  Fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail(io_error("opening " + file, errno));
  unsigned char page[kMetaEnd] = {};
  ASHLAR_TRY(got, read_at(f.fd, page, kMetaEnd, 0, file));
  Meta first = parse(page);
  if (*got < kVersion + 4 || !first.valid)
    return fail(Error::framework(
        fmt::format("{} is not an ashlar store: data.mdb is not an LMDB file this build reads", dir)));
  DataFile out;
  out.page_size = first.page_size;
  if (*got < kMetaEnd) {
    out.size = *got;
    out.needed = kMetaEnd;
    return fail(short_file(dir, out));
  }
  if (first.page_size < kMinPageSize || first.page_size > kMaxPageSize || (first.page_size & (first.page_size - 1)))
    return fail(damaged(dir, fmt::format("data.mdb's first meta page gives a page size of {}", first.page_size)));
  got = read_at(f.fd, page, kMetaEnd, first.page_size, file);
  if (!got) return fail(got.error());
  Meta second = parse(page);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return fail(io_error("reading the size of " + file, errno));
  out.size = static_cast<std::uint64_t>(st.st_size);
  // A last page past what any file can hold is damage too; say so without overflowing.
  std::uint64_t limit = UINT64_MAX / first.page_size - 1;
  auto pages_of = [&](const Meta& m) { return (std::min(m.last_page, limit) + 1) * first.page_size; };
  if (*got < kMetaEnd) {
    out.needed = std::max(pages_of(first), 2 * std::uint64_t{first.page_size});
    return fail(short_file(dir, out));
  }
  if (!second.valid)
    return fail(damaged(dir, fmt::format("data.mdb's second meta page (at byte {}) is not an LMDB meta page",
                                         first.page_size)));
  out.needed = pages_of(second.txnid > first.txnid ? second : first);
  return out;
}

Error short_file(const std::string& dir, const DataFile& file) {
  return damaged(dir, fmt::format("data.mdb is {} bytes, the store needs {}", file.size, file.needed));
}

Result<void> check_size(const std::string& dir) {
  ASHLAR_TRY(file, read_meta(dir));
  if (file->size >= file->needed) return {};
  if (walk_pages(dir)) return {};
  return fail(short_file(dir, *file));
}

}  // namespace ashlar::store_files
