// One CSV schema per report kind, written by the runner (not by each command):
//   primitive rows: one per party and phase of a primitive point (bench primitives);
//   layer rows: one per op kind of a block point, summed over parties, plus its (total) and
//   (offline) rows (bench layer).
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "runner/runner.h"

namespace marill {

struct PrimitiveRow {
  std::string setting, op, shape, party, phase;
  u64 bytes_sent = 0;
  u64 rounds = 0;  // online: the op's session-wide rounds; offline: 1 if the party streamed material
  double sim_time_s = 0, cpu_time_s = 0;
  double bytes_per_element = 0;  // bytes_sent per output element
};

struct LayerRow {
  std::string setting, arch, stage;
  i64 b = 0, d = 0, heads = 0;
  int merge = 1;
  i64 lora = 0;
  bool fss = true;
  std::string kind;          // an op path below "forward" (two levels at most), "(total)" or "(offline)"
  std::string party = "all";
  u64 bytes_sent = 0;        // online bytes of all parties; (offline): the dealer's
  double bytes_share = 0;    // of the block's online bytes
  u64 rounds = 0;            // (total): the block's session-wide rounds; kinds: the most of any party
  u64 secure_macs = 0;       // one party's count (the most of any party)
  double sim_time_s = 0;
};

std::vector<PrimitiveRow> primitive_rows(const PointResult& r);
// (total), (offline), then the op kinds in path order.
std::vector<LayerRow> layer_rows(const PointResult& r);

const char* primitive_csv_header();
const char* layer_csv_header();
std::string csv_line(const PrimitiveRow& r);
std::string csv_line(const LayerRow& r);

// A CSV file of one schema: the header at open, then rows. Throws naming the path if it cannot write.
class CsvWriter {
 public:
  CsvWriter() = default;  // writes nothing
  CsvWriter(const std::string& path, const char* header);
  explicit operator bool() const { return out_.is_open(); }
  template <class Row>
  void write(const Row& r) {
    if (out_.is_open()) out_ << csv_line(r) << '\n';
  }

 private:
  std::ofstream out_;
};

}  // namespace marill
