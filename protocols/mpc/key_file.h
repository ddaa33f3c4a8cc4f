// Key files: the dealer's material for one online party, written by a separate dealer run and read
// by that party while it computes (streamed record by record, so its memory does not grow with the
// file). The format (little-endian):
//   header  "MARILLKF" | u32 version | u8 party (0 client, 1 server) | 3 zero bytes |
//           16-byte PRG key the dealer shares with this party | u64 run id (equal in both files)
//   records tag (u8: 'W' ring words, 'K' key bytes) | 7 zero bytes | u64 payload bytes | payload
//   trailer tag 'E' | 7 zero bytes | u64 number of records
// Records follow the program's gates in order; a reader that asks for another kind or size than the
// next record holds, or reaches the end early or late, names the file and the record (the dealer ran
// another program, or the file is truncated or damaged). Key files are secrets of their party.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "protocols/fss/dealing.h"
#include "protocols/ring/prg.h"

namespace marill {

struct KeyFileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct KeyFileHeader {
  int party = 0;
  Key128 prg_key{};
  std::uint64_t run_id = 0;
};

// The file of `party` (0 client, 1 server) in a key directory: DIR/client.keys, DIR/server.keys.
std::string key_file_path(const std::string& dir, int party);

// Reads only the header; throws KeyFileError naming the file when it is missing or not a key file.
KeyFileHeader read_key_file_header(const std::string& path);

class KeyFileWriter {
 public:
  KeyFileWriter(const std::string& path, const KeyFileHeader& header);
  void words(const RingTensor& t);  // a 'W' record
  void keys(const Bytes& b);        // a 'K' record
  void close();                     // trailer, flush; throws KeyFileError if anything failed
  std::uint64_t bytes_written() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  void record(char tag, const void* data, std::uint64_t n);
  std::string path_;
  std::ofstream out_;
  std::uint64_t records_ = 0, bytes_ = 0;
  bool closed_ = false;
};

class KeyFileReader {
 public:
  explicit KeyFileReader(const std::string& path);
  const KeyFileHeader& header() const { return header_; }
  RingTensor words(i64 count);     // the next record must be 'W' with count words
  Bytes keys(std::uint64_t n);     // the next record must be 'K' with n bytes
  void finish();                   // the next record must be the trailer, then the end of the file

 private:
  std::uint64_t next(char tag, std::uint64_t n, const char* what);
  std::string path_;
  std::ifstream in_;
  std::unique_ptr<char[]> buffer_;
  KeyFileHeader header_;
  std::uint64_t records_ = 0;
};

}  // namespace marill
