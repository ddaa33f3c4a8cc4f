// `marill plot` (app/plot.h) on small sweep CSVs written here in the schema of `marill run`
// (runner/results_reader.h): the PNGs exist and are PNGs, the numbers behind them are the CSV's
// (repeats averaged, op kinds not counted twice), the Pareto front of a hand-made set, the quality
// join by label == technique with its unmatched names, and bad input named.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "app/commands.h"
#include "app/plot.h"
#include "runner/results_reader.h"

namespace fs = std::filesystem;
using namespace marill;

namespace {

std::string fresh_dir(const std::string& name) {
  const std::string d = (fs::temp_directory_path() / ("marill_plot_test_" + name)).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string header() {
  std::string h;
  for (const std::string& c : sweep_csv_columns()) h += (h.empty() ? "" : ",") + c;
  return h + "\n";
}

// One row of the schema; the knobs that matter here, the rest fixed.
struct Pt {
  std::string id, label, setting, stage;
  double f;
  int merge;
  int repeat;
  double bytes, sim_s;
  std::string time_ratio, comm_ratio;
  int prune_heads = 1;
};

std::string row(const Pt& p) {
  std::ostringstream s;
  s << "paper," << p.id << "," << p.label << ",openllama-3b-v2,model," << p.setting << ",lan," << p.stage << ","
    << (p.stage == "prefill" ? 64 : 63) << "," << p.f << "," << static_cast<int>(p.f * 26 + 0.5) << ",0,," << p.merge
    << ",adjacent," << p.prune_heads << ",0,exact,exact,phantom," << p.repeat << "," << p.bytes * 0.6 << "," << p.bytes << ",0,40," << p.sim_s
    << ",1.5,0.2,base_" << p.setting << "_" << p.stage << "," << p.time_ratio << "," << p.comm_ratio << "\n";
  return s.str();
}

// A Fig. 4 / Table 2 sweep: per setting and stage, the baseline "full", the labels "lf" (two
// repeats), "lf+hm4" and "hp4", and unlabelled f points 0.25 and 0.75; a point with no baseline.
std::string sweep_csv() {
  std::string csv = header();
  for (const std::string st : {"3pc", "2pc-dealer"})
    for (const std::string stage : {"prefill", "decode"}) {
      const std::string k = st + "_" + stage;
      csv += row({"full_" + k, "full", st, stage, 1.0, 1, 0, 1000, 10, "1", "1"});
      csv += row({"lf_" + k, "lf", st, stage, 0.5, 1, 0, 520, 5.5, "1.9", "1.8"});
      csv += row({"lf_" + k, "lf", st, stage, 0.5, 1, 1, 520, 4.5, "2.1", "2.2"});
      csv += row({"lfhm4_" + k, "lf+hm4", st, stage, 0.5, 4, 0, 300, 3, st == "3pc" ? "3.5" : "3.1", "3.3"});
      csv += row({"hp4_" + k, "hp4", st, stage, 1.0, 1, 0, 700, 7, "1.4", "1.5", 4});
      csv += row({"f25_" + k, "", st, stage, 0.25, 1, 0, 270, 2.7, "3.6", "3.7"});
      csv += row({"f75_" + k, "", st, stage, 0.75, 1, 0, 760, 7.6, "1.3", "1.31"});
    }
  csv += row({"orphan", "", "3pc", "prefill", 0.5, 2, 0, 1, 1, "", ""});  // no baseline: empty ratios
  return csv;
}

// Op rows: top-level kinds and a nested one (attention/softmax, counted inside attention).
std::string ops_csv(const std::string& sweep) {
  std::string csv = "point_id,kind,online_bytes_total,rounds,sim_s\n";
  std::set<std::string> seen;
  const CsvTable t = parse_csv(sweep, "sweep");
  const int id = t.column("point_id"), bytes = t.column("online_bytes_total");
  for (const auto& r : t.rows) {
    if (!seen.insert(r[static_cast<size_t>(id)]).second) continue;
    const double b = std::stod(r[static_cast<size_t>(bytes)]);
    std::ostringstream s;
    s << r[static_cast<size_t>(id)] << ",attention," << b * 0.5 << ",10,0.1\n"
      << r[static_cast<size_t>(id)] << ",attention/softmax," << b * 0.3 << ",6,0.05\n"
      << r[static_cast<size_t>(id)] << ",mlp," << b * 0.3 << ",8,0.1\n"
      << r[static_cast<size_t>(id)] << ",head," << b * 0.2 << ",4,0.02\n";
    csv += s.str();
  }
  return csv;
}

const std::string kQuality =
    "task,technique,description,metric,score,pct_of_full,chrf,exact_match,perplexity,frozen_layers,private_layers,attn_heads,trainable_params,train_seconds,n_test\n"
    "code,base,\"pre-trained base, no fine-tuning\",exact,0.1,12.5,,,,,,,,,100\n"
    "code,full,\"full fine-tuning (teacher)\",exact,0.8,100.0,,,,0,4,8,100,1,100\n"
    "code,lf,\"layer freezing, f = 1/2\",exact,0.7,87.5,,,,2,2,8,50,1,100\n"
    "code,hp4,\"head pruning, m = 4\",exact,0.3,37.5,,,,0,4,2,80,1,100\n"
    "code,lf+hm4,\"LF + \"\"merged\"\" heads\",exact,0.6,75.0,,,,2,2,2,40,1,100\n"
    "translate,full,full,chrF,11,100.0,,,,0,4,8,100,1,100\n"
    "translate,lf,lf,chrF,9,79.3,,,,2,2,8,50,1,100\n";

bool png_file(const std::string& path) {
  const std::string s = read(path);
  return s.size() > 8 && s.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0;
}

std::vector<std::string> pngs(const PlotOutput& out) {
  std::vector<std::string> v;
  for (const std::string& f : out.files)
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".png") == 0) v.push_back(fs::path(f).filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// The numeric rows of a gnuplot data file (comments and blank lines skipped).
std::vector<std::vector<double>> data_rows(const std::string& path) {
  std::vector<std::vector<double>> out;
  std::istringstream in(read(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::vector<double> r;
    std::string x;
    while (ls >> x) r.push_back(x == "NaN" ? std::nan("") : std::stod(x));
    out.push_back(r);
  }
  return out;
}

}  // namespace

TEST_CASE("CSV reading: quoted commas, doubled quotes, line breaks in quotes, CRLF, bad shapes named", "[plot][csv]") {
  const CsvTable t = parse_csv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",\r\n\n3,,z", "t.csv");
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0][1] == "x, y");
  CHECK(t.rows[0][2] == "say \"hi\"");
  CHECK(t.rows[1][1] == "two\nlines");
  CHECK(t.rows[1][2].empty());
  CHECK(t.lines == std::vector<int>{2, 3, 6});
  CHECK(t.rows[2] == std::vector<std::string>{"3", "", "z"});
  CHECK_THROWS_WITH(parse_csv("a,b\n1,2,3\n", "t.csv"), Catch::Contains("t.csv:2: 3 fields where the header has 2"));
  CHECK_THROWS_WITH(parse_csv("a,b\n1,\"open\n", "t.csv"), Catch::Contains("t.csv:2: a quoted field is not closed"));
  CHECK_THROWS_WITH(parse_csv("", "t.csv"), Catch::Contains("t.csv: empty file"));
  CHECK(parse_csv("\xEF\xBB\xBF" "a,b\n1,2\n", "bom.csv").column("a") == 0);  // a byte-order mark is not part of the first name
  CHECK(ops_csv_path("out/paper.csv") == "out/paper.ops.csv");
}

TEST_CASE("marill plot draws Fig. 4 bars, Table 2 curves and op-kind stacks as PNGs from the CSV's numbers", "[plot]") {
  const std::string d = fresh_dir("figures");
  const std::string csv = sweep_csv();
  write(d + "/sweep.csv", csv);
  write(d + "/sweep.ops.csv", ops_csv(csv));
  PlotOptions o;
  o.results = d + "/sweep.csv";
  o.out_dir = d + "/plots";
  const PlotOutput out = make_plots(o);
  const std::vector<std::string> want = {
      "sweep_fig4_decode_comm.png",       "sweep_fig4_decode_time.png",       "sweep_fig4_prefill_comm.png",
      "sweep_fig4_prefill_time.png",      "sweep_ops_decode_2pc-dealer.png",  "sweep_ops_decode_3pc.png",
      "sweep_ops_prefill_2pc-dealer.png", "sweep_ops_prefill_3pc.png",        "sweep_table2_decode_comm.png",
      "sweep_table2_decode_time.png",     "sweep_table2_prefill_comm.png",    "sweep_table2_prefill_time.png"};
  CHECK(pngs(out) == want);
  for (const std::string& f : out.files) {
    INFO(f);
    CHECK(fs::path(f).parent_path() == fs::path(d + "/plots"));
    if (fs::path(f).extension() != ".log") CHECK(fs::file_size(f) > 0);  // gnuplot's log is empty when all went well
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".png") == 0) CHECK(png_file(f));
  }
  // Fig. 4, prefill time: groups 3pc, 2pc-dealer; labels full, lf (repeats 1.9 and 2.1), lf+hm4, hp4.
  const auto bars = data_rows(d + "/plots/sweep_fig4_prefill_time.dat");
  REQUIRE(bars.size() == 2);
  CHECK(bars[0] == std::vector<double>{0, 1, 2.0, 3.5, 1.4});
  CHECK(bars[1] == std::vector<double>{1, 1, 2.0, 3.1, 1.4});
  const std::string script = read(d + "/plots/sweep_plots.gp");
  CHECK(script.find("title 'lf+hm4'") != std::string::npos);
  CHECK(script.find("set xtics ('3pc' 0, '2pc-dealer' 1)") != std::string::npos);
  CHECK(script.find("with labels") != std::string::npos);  // the numbers on the bars
  // Table 2, prefill comm: one curve per setting, f = 0.25, 0.5, 0.75, 1 (the labelled points too:
  // merge and head pruning vary, so curves split by m and hp).
  const std::string t2 = read(d + "/plots/sweep_table2_prefill_comm.dat");
  CHECK(t2.find("# 3pc m=1 hp=1: f, comm ratio\n0.25 3.7\n0.5 2\n0.75 1.31\n1 1\n") != std::string::npos);
  CHECK(t2.find("# 2pc-dealer m=4 hp=1: f, comm ratio\n0.5 3.3\n") != std::string::npos);
  // Op stacks: shares of the top-level kinds (attention 0.5, mlp 0.3, head 0.2; attention/softmax
  // is inside attention) sum to 100 per point, with no "other".
  const auto stack = data_rows(d + "/plots/sweep_ops_prefill_3pc.dat");
  REQUIRE(stack.size() == 7);  // 6 points + the one without a baseline
  for (const auto& r : stack) {
    REQUIRE(r.size() == 4);
    CHECK(r[1] == Approx(50));
    CHECK(r[2] == Approx(30));
    CHECK(r[3] == Approx(20));
  }
  CHECK(read(d + "/plots/sweep_ops_prefill_3pc.dat").find("attention mlp head") != std::string::npos);
  CHECK(script.find("'full' 0, 'lf' 1, 'lf+hm4' 2, 'hp4' 3, 'f=0.25 m=1 hp=1' 4, 'f=0.75 m=1 hp=1' 5, 'f=0.5 m=2 hp=1' 6") != std::string::npos);
}

TEST_CASE("the Pareto front keeps the points no other point beats on both coordinates", "[plot][pareto]") {
  // (improvement, quality)
  const std::vector<std::pair<double, double>> pts = {
      {1.0, 100},  // the best quality
      {0.5, 100},  // dominated by (1, 100): same quality, less improvement
      {2.0, 80},   // on the front
      {1.5, 70},   // dominated by (2, 80)
      {3.0, 50},   // on the front
      {3.0, 40},   // dominated by (3, 50)
      {2.0, 80},   // the same point twice: neither beats the other
      {4.0, 10},   // the best improvement
  };
  CHECK(pareto_front(pts) == std::vector<bool>{true, false, true, false, true, false, true, true});
  CHECK(pareto_front({}).empty());
  CHECK(pareto_front({{1, 1}}) == std::vector<bool>{true});
}

TEST_CASE("quality beside cost: the join by label, unmatched names both ways, the table and the scatter", "[plot][quality]") {
  const std::string d = fresh_dir("quality");
  const std::string csv = sweep_csv();
  write(d + "/sweep.csv", csv);
  write(d + "/quality.csv", kQuality);
  const std::vector<SweepRow> rows = read_sweep_csv(d + "/sweep.csv");
  const QualityJoin j = join_quality(rows, read_quality_csv(d + "/quality.csv"), "code");
  // columns: the setting, with the stage (the sweep has two)
  CHECK(j.columns == std::vector<std::string>{"3pc prefill", "3pc decode", "2pc-dealer prefill", "2pc-dealer decode"});
  REQUIRE(j.entries.size() == 4);  // full, lf, hp4, lf+hm4 in the quality table's order
  CHECK(j.entries[0].technique == "full");
  CHECK(j.entries[1].technique == "lf");
  CHECK(j.entries[1].description == "layer freezing, f = 1/2");
  CHECK(j.entries[1].pct_of_full == 87.5);
  CHECK(*j.entries[1].time.at("3pc prefill") == Approx(2.0));  // the repeats' mean
  CHECK(*j.entries[3].time.at("2pc-dealer decode") == Approx(3.1));
  CHECK(j.unmatched_techniques == std::vector<std::string>{"base"});
  CHECK(j.unmatched_labels.empty());
  // Pareto on 3pc prefill time: full (1, 100), lf (2, 87.5), lf+hm4 (3.5, 75); hp4 (1.4, 37.5) is beaten by lf.
  auto on = [&](size_t i, const std::string& where) {
    const auto& f = j.entries[i].front;
    return std::find(f.begin(), f.end(), where) != f.end();
  };
  CHECK(on(0, "3pc prefill time"));
  CHECK(on(1, "3pc prefill time"));
  CHECK_FALSE(on(2, "3pc prefill time"));
  CHECK(on(3, "3pc prefill time"));
  const std::string md = quality_markdown(j);
  CHECK(md.find("| technique | % of full fine-tuning | 3pc prefill time (x) | 3pc prefill comm (x) |") != std::string::npos);
  CHECK(md.find("| lf | 87.5 | 2.00 | 2.00 |") != std::string::npos);
  CHECK(md.find("- 3pc prefill, time: full, lf, lf+hm4\n") != std::string::npos);
  CHECK(md.find("Techniques of the task without sweep rows: base") != std::string::npos);

  // translate: only full and lf have quality; the sweep's lf+hm4 and hp4 are unmatched labels
  const QualityJoin t = join_quality(rows, read_quality_csv(d + "/quality.csv"), "translate");
  CHECK(t.entries.size() == 2);
  CHECK(t.unmatched_labels == std::vector<std::string>{"lf+hm4", "hp4"});
  CHECK(t.unmatched_techniques.empty());
  CHECK_THROWS_WITH(join_quality(rows, read_quality_csv(d + "/quality.csv"), "poetry"),
                    Catch::Contains("no row for task 'poetry' (tasks: code, translate)"));

  // through make_plots: the markdown and one scatter per column and metric
  PlotOptions o;
  o.results = d + "/sweep.csv";
  o.quality = d + "/quality.csv";
  o.task = "code";
  const PlotOutput out = make_plots(o);  // no --out: beside the CSV
  const std::vector<std::string> p = pngs(out);
  CHECK(std::count_if(p.begin(), p.end(), [](const std::string& f) { return f.rfind("sweep_quality_code_", 0) == 0; }) == 8);
  CHECK(std::find(p.begin(), p.end(), "sweep_quality_code_3pc_prefill_time.png") != p.end());
  for (const std::string& f : out.files)
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".png") == 0) CHECK(png_file(f));
  CHECK(read(d + "/sweep_quality_code.md").find("| lf+hm4 | 75.0 |") != std::string::npos);
  const auto front = data_rows(d + "/sweep_quality_code_3pc_prefill_time_front.dat");
  CHECK(front == std::vector<std::vector<double>>{{1, 100}, {2, 87.5}, {3.5, 75}});
  bool noted = false;
  for (const std::string& n : out.notes) noted = noted || n.find("techniques without sweep rows: 1") != std::string::npos;
  CHECK(noted);
  // ops.csv missing: noted, the other figures drawn
  bool ops_noted = false;
  for (const std::string& n : out.notes) ops_noted = ops_noted || n.find("sweep.ops.csv is missing") != std::string::npos;
  CHECK(ops_noted);
}

TEST_CASE("marill plot: bad input is named", "[plot][errors]") {
  const std::string d = fresh_dir("errors");
  PlotOptions o;
  o.results = d + "/none.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains(d + "/none.csv: cannot open"));

  // a header without a schema column, named
  std::string h = header();
  h.replace(h.find(",comm_ratio"), std::string(",comm_ratio").size(), "");
  std::string body = sweep_csv().substr(header().size());
  std::string rows_without_last;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) rows_without_last += line.substr(0, line.rfind(',')) + "\n";
  write(d + "/short.csv", h + rows_without_last);
  o.results = d + "/short.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("short.csv: the header is not the sweep schema of marill run: missing column comm_ratio"));
  write(d + "/other.csv", "a,b\n1,2\n");
  o.results = d + "/other.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("missing columns scenario, point_id"));

  write(d + "/empty.csv", header());
  o.results = d + "/empty.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("empty.csv: no rows (only the header)"));

  std::string bad = sweep_csv();
  bad.replace(bad.find(",10,1.5,"), 8, ",ten,1.5,");  // the first row's sim_s
  write(d + "/bad.csv", bad);
  o.results = d + "/bad.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("bad.csv:2: column sim_s: 'ten' is not a number"));

  // the ops file beside it is read too: a bad one is named
  write(d + "/good.csv", sweep_csv());
  write(d + "/good.ops.csv", "point_id,kind\nx,attention\n");
  o.results = d + "/good.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("good.ops.csv: the header is not the op-kind schema of marill run: missing columns online_bytes_total, rounds, sim_s"));
  fs::remove(d + "/good.ops.csv");

  // nothing drawable: one point, no baseline, no f sweep, no ops
  write(d + "/lonely.csv", header() + row({"p", "", "3pc", "prefill", 0.5, 1, 0, 1, 1, "", ""}));
  o.results = d + "/lonely.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("nothing to plot"));

  // gnuplot missing: the package is named
  o.results = d + "/good.csv";
  o.gnuplot = "marill-no-such-gnuplot";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("install the Debian package gnuplot-nox"));
  o.gnuplot = "gnuplot";

  // quality options
  o.quality = d + "/q.csv";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("--quality needs the task"));
  o.task = "code";
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains(d + "/q.csv: cannot open"));
  write(d + "/q.csv", "task,technique,score\ncode,full,1\n");
  CHECK_THROWS_WITH(make_plots(o), Catch::Contains("q.csv: the header is not a quality table (results/ml/results.csv): missing column pct_of_full"));

  // the command line: one CSV
  std::vector<std::string> words = {"a.csv", "b.csv"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  CHECK_THROWS_WITH(cmd_plot(static_cast<int>(argv.size()), argv.data()), Catch::Contains("expected one RESULTS.csv, got 2"));
  CHECK_THROWS_WITH(cmd_plot(0, nullptr), Catch::Contains("expected one RESULTS.csv, got 0"));
}
