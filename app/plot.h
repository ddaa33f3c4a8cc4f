// `marill plot RESULTS.csv [--out DIR] [--quality results/ml/results.csv --task code|translate]`:
// PNGs drawn by gnuplot (a subprocess, no shell; its script and data files are written to the
// output directory beside the PNGs) from a sweep's CSVs (runner/results_reader.h):
// - Fig. 4-style bars: per stage and metric (time, comm), each label's improvement factor
//   (time_ratio, comm_ratio) grouped by setting, the numbers on the bars;
// - Table 2-style curves: the ratios against the freeze fraction f per setting, when f varies;
// - op-kind stacks from RESULTS.ops.csv: each kind's share of the online bytes per point;
// - with --quality: quality beside cost, the trained techniques' % of full fine-tuning joined with
//   the sweep's rows by label == technique: a markdown table and scatter plots (x: improvement,
//   y: quality) with the Pareto front marked and listed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/results_reader.h"

namespace marill {

struct PlotOptions {
  std::string results;          // RESULTS.csv
  std::string out_dir;          // empty: RESULTS.csv's directory
  std::string quality;          // results/ml/results.csv, or empty
  std::string task;             // the quality table's task (code | translate); needed with quality
  std::string gnuplot = "gnuplot";  // the program (a name looked up on PATH, or a path)
};

struct PlotOutput {
  std::vector<std::string> files;  // written: PNGs, the markdown table, the gnuplot script and data
  std::vector<std::string> notes;  // what was skipped and why, unmatched labels
};

// Draws every figure the CSVs allow. Throws std::invalid_argument on bad input (missing file,
// header without a schema column, no rows, unknown task) and std::runtime_error when gnuplot is
// missing (naming the package gnuplot-nox) or fails (with its messages).
PlotOutput make_plots(const PlotOptions& o);

// Indices' flags: true where no other point is at least as good on both coordinates and better on
// one (larger is better on both: x an improvement factor, y a quality).
std::vector<bool> pareto_front(const std::vector<std::pair<double, double>>& points);

// The trained techniques of one task beside the sweep's cost, joined by label == technique.
struct QualityEntry {
  std::string technique, description;
  double pct_of_full = 0;
  // per column (a setting, with the stage, network, b or model when the sweep varies them): the mean
  // improvement over the rows of that label (repeats)
  std::map<std::string, std::optional<double>> time, comm;
  std::vector<std::string> front;  // "3pc time", ...: where the technique is on the Pareto front
};
struct QualityJoin {
  std::string task;
  std::vector<std::string> columns;  // in the sweep's order
  std::vector<QualityEntry> entries;  // matched techniques, in the quality table's order
  std::vector<std::string> unmatched_techniques;  // the task's techniques no sweep row is labelled with
  std::vector<std::string> unmatched_labels;      // sweep labels the task has no quality for
};
// Throws std::invalid_argument when the quality table has no row for `task` (naming the tasks it has).
QualityJoin join_quality(const std::vector<SweepRow>& rows, const std::vector<QualityRow>& quality, const std::string& task);
// The table: technique, % of full, time and comm improvement per column, the Pareto fronts.
std::string quality_markdown(const QualityJoin& j);

}  // namespace marill
