// Reading what sweeps and training wrote, for plots and tables (`marill plot`, app/plot.h):
// - RESULTS.csv of `marill run`, one row per point (the schema: sweep_csv_columns());
// - RESULTS.ops.csv beside it, one row per point and op kind (ops_csv_columns());
// - results/ml/results.csv of the training side (task, technique, ..., pct_of_full, ...).
// CSV as RFC 4180 writes it: comma-separated, a field in double quotes may hold commas, quotes
// ("" inside) and line breaks. Every error names the file, and the line and column where there is one.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace marill {

struct CsvTable {
  std::string path;                             // for messages
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;   // each as long as the header
  std::vector<int> lines;                       // the line each row starts on (1-based; the header is line 1)
  // The index of a column, or -1.
  int column(const std::string& name) const;
  // Throws std::invalid_argument naming the file and every column of `names` the header lacks.
  void require_columns(const std::vector<std::string>& names, const std::string& what) const;
};

// Parses CSV text (`path` names it in errors): an unterminated quote, or a row with another number
// of fields than the header, is an error naming the line.
CsvTable parse_csv(const std::string& text, const std::string& path);
// Reads and parses a file; a missing or unreadable file is an error naming it.
CsvTable read_csv_file(const std::string& path);

// The columns `marill run` writes, in order (docs: the sweep CSV schema).
const std::vector<std::string>& sweep_csv_columns();
const std::vector<std::string>& ops_csv_columns();

// One point of a sweep (a row of RESULTS.csv), the fields plots and tables use, typed.
struct SweepRow {
  int line = 0;  // in the file
  std::string point_id, label, model, workload, setting, network, stage;
  long long b = 0;
  double freeze = 1.0;
  long long private_layers = 0, lora_rank = 0;
  std::string lora_targets;
  long long merge = 1;
  std::string grouping;
  long long prune_heads = 1, prune_layers = 0;
  std::string softmax, act, mode;
  long long repeat = 0;
  double online_bytes_max = 0, online_bytes_total = 0, offline_bytes_total = 0, rounds = 0;
  double sim_s = 0, cpu_s = 0, wall_s = 0;
  std::string baseline_id;
  std::optional<double> time_ratio, comm_ratio;  // empty when the point has no baseline
};

// RESULTS.csv -> rows. Errors: a missing file, a header without a schema column (named), no row,
// a field that is not a number where one is expected (file, line, column).
std::vector<SweepRow> read_sweep_csv(const std::string& path);

// RESULTS.csv -> RESULTS.ops.csv (RESULTS minus ".csv" plus ".ops.csv").
std::string ops_csv_path(const std::string& results_csv);

struct OpsRow {
  int line = 0;
  std::string point_id, kind;  // kind: a ledger op path, "attention", "attention/softmax", ...
  double online_bytes_total = 0, rounds = 0, sim_s = 0;
};
// Errors as read_sweep_csv's.
std::vector<OpsRow> read_ops_csv(const std::string& path);

// A trained technique's quality (results/ml/results.csv).
struct QualityRow {
  int line = 0;
  std::string task, technique, description, metric;
  double pct_of_full = 0;  // the score as a percentage of full fine-tuning's
};
// Needs the columns task, technique and pct_of_full (description and metric when present).
std::vector<QualityRow> read_quality_csv(const std::string& path);

}  // namespace marill
