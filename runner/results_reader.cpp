#include "runner/results_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace marill {

int CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

void CsvTable::require_columns(const std::vector<std::string>& names, const std::string& what) const {
  std::string missing;
  for (const std::string& n : names)
    if (column(n) < 0) missing += (missing.empty() ? "" : ", ") + n;
  if (!missing.empty())
    throw std::invalid_argument(path + ": the header is not " + what + ": missing column" +
                                (missing.find(',') == std::string::npos ? " " : "s ") + missing);
}

CsvTable parse_csv(const std::string& text, const std::string& path) {
  CsvTable t;
  t.path = path;
  std::vector<std::vector<std::string>> records;
  std::vector<int> starts;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false, any = false;
  int line = 1, record_line = 1, quote_line = 0;
  auto end_field = [&] {
    record.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    // a line with nothing on it (a trailing newline, a blank line) is not a record
    if (!(record.size() == 1 && record[0].empty())) {
      records.push_back(record);
      starts.push_back(record_line);
    }
    record.clear();
  };
  const size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte-order mark (spreadsheets write one)
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    any = true;
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started && field.empty()) {
      quoted = true;
      field_started = true;
      quote_line = line;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
      record_line = line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw std::invalid_argument(path + ":" + std::to_string(quote_line) + ": a quoted field is not closed");
  if (any && (!field.empty() || !record.empty())) end_record();
  if (records.empty()) throw std::invalid_argument(path + ": empty file (no header)");
  t.header = records[0];
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != t.header.size())
      throw std::invalid_argument(path + ":" + std::to_string(starts[r]) + ": " + std::to_string(records[r].size()) + " fields where the header has " +
                                  std::to_string(t.header.size()));
    t.rows.push_back(std::move(records[r]));
    t.lines.push_back(starts[r]);
  }
  return t;
}

CsvTable read_csv_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot open (no such file?)");
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw std::invalid_argument(path + ": cannot read");
  return parse_csv(s.str(), path);
}

const std::vector<std::string>& sweep_csv_columns() {
  static const std::vector<std::string> c = {
      "scenario", "point_id", "label", "model", "workload", "setting", "network", "stage", "b", "freeze", "private_layers",
      "lora_rank", "lora_targets", "merge", "grouping", "prune_heads", "prune_layers", "softmax", "act", "mode", "repeat",
      "online_bytes_max", "online_bytes_total", "offline_bytes_total", "rounds", "sim_s", "cpu_s", "wall_s", "baseline_id",
      "time_ratio", "comm_ratio"};
  return c;
}

const std::vector<std::string>& ops_csv_columns() {
  static const std::vector<std::string> c = {"point_id", "kind", "online_bytes_total", "rounds", "sim_s"};
  return c;
}

namespace {

// Typed access to one row's fields; a bad number names the file, line and column.
struct RowReader {
  const CsvTable& t;
  size_t r;
  const std::string& text(const std::string& col) const {
    const int c = t.column(col);
    static const std::string none;
    return c < 0 ? none : t.rows[r][static_cast<size_t>(c)];
  }
  [[noreturn]] void bad(const std::string& col, const std::string& want) const {
    throw std::invalid_argument(t.path + ":" + std::to_string(t.lines[r]) + ": column " + col + ": '" + text(col) + "' is not " + want);
  }
  double number(const std::string& col) const {
    const std::string& s = text(col);
    char* end = nullptr;
    errno = 0;
    const double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) bad(col, "a number");
    return v;
  }
  long long integer(const std::string& col) const {
    const double v = number(col);
    if (v != std::floor(v) || std::fabs(v) > 9e15) bad(col, "an integer");
    return static_cast<long long>(v);
  }
  std::optional<double> optional_number(const std::string& col) const {
    if (text(col).empty()) return std::nullopt;
    return number(col);
  }
};

CsvTable read_with_columns(const std::string& path, const std::vector<std::string>& columns, const std::string& what) {
  CsvTable t = read_csv_file(path);
  t.require_columns(columns, what);
  if (t.rows.empty()) throw std::invalid_argument(path + ": no rows (only the header)");
  return t;
}

}  // namespace

std::vector<SweepRow> read_sweep_csv(const std::string& path) {
  const CsvTable t = read_with_columns(path, sweep_csv_columns(), "the sweep schema of marill run");
  std::vector<SweepRow> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const RowReader f{t, r};
    SweepRow s;
    s.line = t.lines[r];
    s.point_id = f.text("point_id");
    s.label = f.text("label");
    s.model = f.text("model");
    s.workload = f.text("workload");
    s.setting = f.text("setting");
    s.network = f.text("network");
    s.stage = f.text("stage");
    s.b = f.integer("b");
    s.freeze = f.number("freeze");
    s.private_layers = f.integer("private_layers");
    s.lora_rank = f.integer("lora_rank");
    s.lora_targets = f.text("lora_targets");
    s.merge = f.integer("merge");
    s.grouping = f.text("grouping");
    s.prune_heads = f.integer("prune_heads");
    s.prune_layers = f.integer("prune_layers");
    s.softmax = f.text("softmax");
    s.act = f.text("act");
    s.mode = f.text("mode");
    s.repeat = f.integer("repeat");
    s.online_bytes_max = f.number("online_bytes_max");
    s.online_bytes_total = f.number("online_bytes_total");
    s.offline_bytes_total = f.number("offline_bytes_total");
    s.rounds = f.number("rounds");
    s.sim_s = f.number("sim_s");
    s.cpu_s = f.number("cpu_s");
    s.wall_s = f.number("wall_s");
    s.baseline_id = f.text("baseline_id");
    s.time_ratio = f.optional_number("time_ratio");
    s.comm_ratio = f.optional_number("comm_ratio");
    if (s.setting.empty()) f.bad("setting", "a setting");
    if (s.stage.empty()) f.bad("stage", "a stage");
    out.push_back(std::move(s));
  }
  return out;
}

std::string ops_csv_path(const std::string& results_csv) {
  const std::string ext = ".csv";
  const bool has_ext = results_csv.size() >= ext.size() && results_csv.compare(results_csv.size() - ext.size(), ext.size(), ext) == 0;
  return (has_ext ? results_csv.substr(0, results_csv.size() - ext.size()) : results_csv) + ".ops.csv";
}

std::vector<OpsRow> read_ops_csv(const std::string& path) {
  const CsvTable t = read_with_columns(path, ops_csv_columns(), "the op-kind schema of marill run");
  std::vector<OpsRow> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const RowReader f{t, r};
    OpsRow o;
    o.line = t.lines[r];
    o.point_id = f.text("point_id");
    o.kind = f.text("kind");
    if (o.kind.empty()) f.bad("kind", "an op kind");
    o.online_bytes_total = f.number("online_bytes_total");
    o.rounds = f.number("rounds");
    o.sim_s = f.number("sim_s");
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<QualityRow> read_quality_csv(const std::string& path) {
  const CsvTable t = read_with_columns(path, {"task", "technique", "pct_of_full"}, "a quality table (results/ml/results.csv)");
  std::vector<QualityRow> out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const RowReader f{t, r};
    QualityRow q;
    q.line = t.lines[r];
    q.task = f.text("task");
    q.technique = f.text("technique");
    q.description = f.text("description");
    q.metric = f.text("metric");
    q.pct_of_full = f.number("pct_of_full");
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace marill
