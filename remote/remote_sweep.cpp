#include "remote/remote_sweep.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runner/generation.h"
#include "runner/runner.h"

namespace marill {

namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read the scenario file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t point_index(const Scenario& sc, const ScenarioPoint& p) {
  for (size_t i = 0; i < sc.points.size(); ++i)
    if (sc.points[i].id == p.id) return i;
  throw std::invalid_argument("remote sweep: point " + p.id + " is not in " + sc.file);
}

// The parties of a point, as its session will have them.
std::vector<Role> point_roles(Setting setting, const CorrelationOptions& correlations) {
  BackendOptions opt;
  opt.correlations = correlations;
  return session_roles(setting, opt);
}

}  // namespace

std::shared_ptr<const ComputeModel> job_compute_model(const PartyJob& job) {
  if (job.calibration_json.empty()) return builtin_compute_model();
  return std::make_shared<const ComputeModel>(ComputeModel::from_json(job.calibration_json, "the coordinator's calibration"));
}

std::function<SweepCost(const ScenarioPoint&)> remote_point_runner(Coordinator& coordinator, const Scenario& sc,
                                                                   const std::string& calibration_json) {
  const std::string text = read_text(sc.file);
  const std::string dir = fs::absolute(sc.file).parent_path().lexically_normal().string();
  std::shared_ptr<const ComputeModel> local = calibration_json.empty()
                                                  ? builtin_compute_model()
                                                  : std::make_shared<const ComputeModel>(ComputeModel::from_json(calibration_json, "calibration"));
  return [&coordinator, &sc, text, dir, calibration_json, local](const ScenarioPoint& p) -> SweepCost {
    if (p.setting == Setting::cleartext) return run_sweep_point(sc, p, local);  // no parties, no network
    const std::vector<Role> roles = point_roles(p.setting, sc.workload == SweepWorkload::block ? block_point(sc, p).correlations
                                                                                               : generation_point(sc, p).correlations);
    PartyJob job;
    job.kind = JobKind::sweep_point;
    job.calibration_json = calibration_json;
    job.args = {sc.file, dir, text, std::to_string(point_index(sc, p))};
    const auto t0 = std::chrono::steady_clock::now();
    const Coordinator::Outcome out = coordinator.run(roles, job);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return sweep_cost(sc, p, Coordinator::session(p.setting, roles, out), wall_s);
  };
}

JobReply run_sweep_job(const PartyJob& job, const RemoteParty& me) {
  if (job.args.size() != 4) throw std::invalid_argument("sweep job: expected 4 arguments (file, dir, text, point), got " + std::to_string(job.args.size()));
  const Scenario sc = parse_scenario(job.args[2], job.args[0], job.args[1]);
  size_t index = 0;
  try {
    index = std::stoul(job.args[3]);
  } catch (const std::exception&) {
    throw std::invalid_argument("sweep job: point index '" + job.args[3] + "' is not a number");
  }
  if (index >= sc.points.size())
    throw std::invalid_argument("sweep job: point " + std::to_string(index) + " of " + sc.file + ", which has " + std::to_string(sc.points.size()));
  const ScenarioPoint& p = sc.points[index];
  const auto timeout = std::chrono::milliseconds(job.timeout_ms);
  const auto model = job_compute_model(job);
  JobReply reply;
  RemoteParty::Run run;
  if (sc.workload == SweepWorkload::block) {
    Point bp = block_point(sc, p);
    bp.compute_model = model;
    bp.validate();
    const std::vector<Role> roles = point_roles(bp.setting, bp.correlations);
    auto digest = std::make_shared<std::string>();
    run = me.run(roles, timeout, [&](Transport& t) { return run_party(bp, me.role, t, digest, timeout); });
    reply.output_sha256 = *digest;
  } else {
    GenerationPoint g = generation_point(sc, p);
    g.compute_model = model;
    const GenerationInputs in = load_generation(g);
    const std::vector<Role> roles = point_roles(g.setting, g.correlations);
    std::vector<int> tokens;
    run = me.run(roles, timeout, [&](Transport& t) { return run_generation_party(g, in, me.role, t, &tokens, timeout); });
    reply.tokens.assign(tokens.begin(), tokens.end());
  }
  reply.has_report = true;
  reply.report = report_to_binary(run.report);
  reply.error = run.report.error;
  reply.wall_s = run.wall_s;
  return reply;
}

}  // namespace marill
