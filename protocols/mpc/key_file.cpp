#include "protocols/mpc/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace marill {

namespace {

constexpr char kMagic[8] = {'M', 'A', 'R', 'I', 'L', 'L', 'K', 'F'};
constexpr std::uint32_t kVersion = 2;  // 2: one-byte-word comparison keys, DPF table keys, balanced derived values
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 16 + 8;
constexpr std::size_t kRecordHeaderBytes = 16;
constexpr std::size_t kReadBuffer = 1 << 20;

void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
const char* tag_name(char tag) {
  switch (tag) {
    case 'W': return "ring words";
    case 'K': return "comparison keys";
    case 'E': return "the end";
    default: return "an unknown record";
  }
}

}  // namespace

std::string key_file_path(const std::string& dir, int party) {
  return (std::filesystem::path(dir) / (party == 0 ? "client.keys" : "server.keys")).string();
}

namespace {
// A key file is its party's secret: created readable by its owner only, before a byte is written.
const std::string& private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw KeyFileError("cannot write key file '" + path + "'");
  const bool ok = ::fchmod(fd, 0600) == 0;  // an existing file keeps its mode otherwise
  ::close(fd);
  if (!ok) throw KeyFileError("cannot make key file '" + path + "' private");
  return path;
}
}  // namespace

KeyFileWriter::KeyFileWriter(const std::string& path, const KeyFileHeader& h)
    : path_(path), out_(private_file(path), std::ios::binary | std::ios::trunc) {
  if (!out_) throw KeyFileError("cannot write key file '" + path + "'");
  unsigned char head[kHeaderBytes] = {};
  std::memcpy(head, kMagic, 8);
  head[8] = static_cast<unsigned char>(kVersion);
  head[12] = static_cast<unsigned char>(h.party);
  std::memcpy(head + 16, h.prg_key.data(), 16);
  put_u64(head + 32, h.run_id);
  out_.write(reinterpret_cast<const char*>(head), kHeaderBytes);
  bytes_ = kHeaderBytes;
}

void KeyFileWriter::record(char tag, const void* data, std::uint64_t n) {
  if (closed_) throw std::logic_error("key file '" + path_ + "' written after close");
  unsigned char head[kRecordHeaderBytes] = {};
  head[0] = static_cast<unsigned char>(tag);
  put_u64(head + 8, n);
  out_.write(reinterpret_cast<const char*>(head), kRecordHeaderBytes);
  if (n) out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out_) throw KeyFileError("cannot write key file '" + path_ + "' (disk full?)");
  ++records_;
  bytes_ += kRecordHeaderBytes + n;
}

void KeyFileWriter::words(const RingTensor& t) {
  if (t.is_phantom()) throw std::logic_error("key files hold real material only (a phantom run needs no keys)");
  record('W', t.data(), static_cast<std::uint64_t>(t.numel()) * 8);
}

void KeyFileWriter::keys(const Bytes& b) { record('K', b.data(), b.size()); }

void KeyFileWriter::close() {
  if (closed_) return;
  unsigned char head[kRecordHeaderBytes] = {};
  head[0] = 'E';
  put_u64(head + 8, records_);
  out_.write(reinterpret_cast<const char*>(head), kRecordHeaderBytes);
  bytes_ += kRecordHeaderBytes;
  out_.flush();
  closed_ = true;
  if (!out_) throw KeyFileError("cannot write key file '" + path_ + "' (disk full?)");
  out_.close();
}

namespace {
KeyFileHeader parse_header(std::istream& in, const std::string& path) {
  unsigned char head[kHeaderBytes];
  in.read(reinterpret_cast<char*>(head), kHeaderBytes);
  if (in.gcount() != static_cast<std::streamsize>(kHeaderBytes) || std::memcmp(head, kMagic, 8) != 0)
    throw KeyFileError("'" + path + "' is not a marill key file");
  if (head[8] != kVersion || head[9] || head[10] || head[11])
    throw KeyFileError("key file '" + path + "' has format version " + std::to_string(head[8]) + ", this build reads " + std::to_string(kVersion));
  KeyFileHeader h;
  h.party = head[12];
  if (h.party != 0 && h.party != 1) throw KeyFileError("key file '" + path + "' names no online party");
  std::memcpy(h.prg_key.data(), head + 16, 16);
  h.run_id = get_u64(head + 32);
  return h;
}
}  // namespace

KeyFileHeader read_key_file_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyFileError("key file '" + path + "' cannot be opened (missing? run the dealer first)");
  return parse_header(in, path);
}

KeyFileReader::KeyFileReader(const std::string& path) : path_(path), buffer_(new char[kReadBuffer]) {
  in_.rdbuf()->pubsetbuf(buffer_.get(), kReadBuffer);
  in_.open(path, std::ios::binary);
  if (!in_) throw KeyFileError("key file '" + path + "' cannot be opened (missing? run the dealer first)");
  header_ = parse_header(in_, path);
}

std::uint64_t KeyFileReader::next(char tag, std::uint64_t n, const char* what) {
  unsigned char head[kRecordHeaderBytes];
  in_.read(reinterpret_cast<char*>(head), kRecordHeaderBytes);
  const std::string where = "key file '" + path_ + "', record " + std::to_string(records_ + 1);
  if (in_.gcount() != static_cast<std::streamsize>(kRecordHeaderBytes))
    throw KeyFileError(where + ": the file ends (truncated) where the program needs " + what);
  const char got = static_cast<char>(head[0]);
  const std::uint64_t len = get_u64(head + 8);
  if (got != tag || (tag != 'E' && len != n))
    throw KeyFileError(where + ": holds " + tag_name(got) + (got == 'E' ? "" : " of " + std::to_string(len) + " bytes") +
                       " where the program needs " + what + (tag == 'E' ? "" : " of " + std::to_string(n) + " bytes") +
                       " (was the dealer run for another program or point?)");
  ++records_;
  return len;
}

RingTensor KeyFileReader::words(i64 count) {
  const std::uint64_t n = static_cast<std::uint64_t>(count) * 8;
  next('W', n, "ring words");
  RingTensor t(Shape{count});
  in_.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(n));
  if (in_.gcount() != static_cast<std::streamsize>(n)) throw KeyFileError("key file '" + path_ + "': truncated inside record " + std::to_string(records_));
  return t;
}

Bytes KeyFileReader::keys(std::uint64_t n) {
  next('K', n, "comparison keys");
  Bytes b(n);
  in_.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(n));
  if (in_.gcount() != static_cast<std::streamsize>(n)) throw KeyFileError("key file '" + path_ + "': truncated inside record " + std::to_string(records_));
  return b;
}

void KeyFileReader::finish() {
  const std::uint64_t used = records_;
  unsigned char head[kRecordHeaderBytes];
  in_.read(reinterpret_cast<char*>(head), kRecordHeaderBytes);
  if (in_.gcount() != static_cast<std::streamsize>(kRecordHeaderBytes))
    throw KeyFileError("key file '" + path_ + "' is truncated: no end record after " + std::to_string(used) + " records");
  if (head[0] != 'E')
    throw KeyFileError("key file '" + path_ + "' holds more material than the program used (" + std::to_string(used) +
                       " records read): was the dealer run for another program or point?");
  if (get_u64(head + 8) != used) throw KeyFileError("key file '" + path_ + "' is damaged: its end record counts " + std::to_string(get_u64(head + 8)) + " records, " + std::to_string(used) + " were read");
  if (in_.peek() != std::char_traits<char>::eof()) throw KeyFileError("key file '" + path_ + "' has bytes after its end record");
}

}  // namespace marill
