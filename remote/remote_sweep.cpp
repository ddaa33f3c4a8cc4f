#include "remote/remote_sweep.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "remote/key_shipping.h"
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

std::function<SweepCost(const ScenarioPoint&)> remote_point_runner(Coordinator& coordinator, const Scenario& sc, const RemoteSweepOptions& opt) {
  if (opt.dealer_ahead && sc.workload != SweepWorkload::block)
    throw std::invalid_argument("--dealer-ahead: key files are dealt per block point (a whole model's would hold every step at once): " + sc.file +
                                " is not a block workload");
  const std::string text = read_text(sc.file);
  const std::string dir = fs::absolute(sc.file).parent_path().lexically_normal().string();
  std::shared_ptr<const ComputeModel> local = opt.calibration_json.empty()
                                                  ? builtin_compute_model()
                                                  : std::make_shared<const ComputeModel>(ComputeModel::from_json(opt.calibration_json, "calibration"));
  auto key_sets = std::make_shared<int>(0);
  return [&coordinator, &sc, text, dir, opt, local, key_sets](const ScenarioPoint& p) -> SweepCost {
    if (p.setting == Setting::cleartext) return run_sweep_point(sc, p, local);  // no parties, no network
    PartyJob job;
    job.kind = JobKind::sweep_point;
    job.calibration_json = opt.calibration_json;
    job.args = {sc.file, dir, text, std::to_string(point_index(sc, p))};
    const auto t0 = std::chrono::steady_clock::now();
    if (opt.dealer_ahead && p.setting == Setting::two_pc_dealer && sc.mode == Mode::real) {
      PartyJob ship = job;
      ship.kind = JobKind::ship_keys;
      ship.args.push_back("keys-" + std::to_string(::getpid()) + "-" + std::to_string(++*key_sets));
      const std::vector<Role> all{Role::client, Role::server, Role::dealer};
      const Coordinator::Outcome shipped = coordinator.run(all, ship);
      SessionResult dealt = Coordinator::session(p.setting, all, shipped);  // throws if the shipping failed
      job.args.push_back(ship.args.back());
      const std::vector<Role> online{Role::client, Role::server};
      const Coordinator::Outcome out = coordinator.run(online, job);
      SessionResult session = Coordinator::session(p.setting, online, out);
      session.parties.push_back(dealt.party(Role::dealer));  // its offline material, as a dealer stream's row has it
      return sweep_cost(sc, p, session, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const std::vector<Role> roles = point_roles(p.setting, sc.workload == SweepWorkload::block ? block_point(sc, p).correlations
                                                                                               : generation_point(sc, p).correlations);
    const Coordinator::Outcome out = coordinator.run(roles, job);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return sweep_cost(sc, p, Coordinator::session(p.setting, roles, out), wall_s);
  };
}

namespace {

struct JobPoint {
  Scenario sc;
  size_t index = 0;
  const ScenarioPoint& point() const { return sc.points[index]; }
};

JobPoint job_point(const PartyJob& job) {
  if (job.args.size() < 4) throw std::invalid_argument("sweep job: expected the scenario's file, directory and text and the point's index");
  JobPoint jp{parse_scenario(job.args[2], job.args[0], job.args[1]), 0};
  try {
    jp.index = std::stoul(job.args[3]);
  } catch (const std::exception&) {
    throw std::invalid_argument("sweep job: point index '" + job.args[3] + "' is not a number");
  }
  if (jp.index >= jp.sc.points.size())
    throw std::invalid_argument("sweep job: point " + std::to_string(jp.index) + " of " + jp.sc.file + ", which has " + std::to_string(jp.sc.points.size()));
  return jp;
}

}  // namespace

Point sweep_job_block_point(const PartyJob& job) {
  const JobPoint jp = job_point(job);
  if (jp.sc.workload != SweepWorkload::block) throw std::invalid_argument("sweep job: " + jp.sc.file + " is not a block workload");
  Point bp = block_point(jp.sc, jp.point());
  bp.compute_model = job_compute_model(job);
  bp.validate();
  return bp;
}

JobReply run_sweep_job(const PartyJob& job, const RemoteParty& me) {
  if (job.args.size() != 4 && job.args.size() != 5)
    throw std::invalid_argument("sweep job: expected 4 or 5 arguments (file, dir, text, point, key set), got " + std::to_string(job.args.size()));
  const JobPoint jp = job_point(job);
  const Scenario& sc = jp.sc;
  const ScenarioPoint& p = jp.point();
  const auto timeout = std::chrono::milliseconds(job.timeout_ms);
  JobReply reply;
  RemoteParty::Run run;
  if (sc.workload == SweepWorkload::block) {
    Point bp = sweep_job_block_point(job);
    std::string key_dir;
    if (job.args.size() == 5) {  // the dealer shipped this point's key files: it is offline now
      key_dir = key_set_dir(me, job.args[4]);
      bp.correlations.source = CorrelationSourceKind::key_files;
      bp.correlations.key_dir = key_dir;
    }
    const std::vector<Role> roles = point_roles(bp.setting, bp.correlations);
    auto digest = std::make_shared<std::string>();
    try {
      run = me.run(roles, timeout, [&](Transport& t) { return run_party(bp, me.role, t, digest, timeout); });
    } catch (...) {
      if (!key_dir.empty()) fs::remove_all(key_dir);
      throw;
    }
    if (!key_dir.empty()) fs::remove_all(key_dir);  // single-use secrets
    reply.output_sha256 = *digest;
  } else {
    if (job.args.size() == 5) throw std::invalid_argument("sweep job: key files serve block points only");
    GenerationPoint g = generation_point(sc, p);
    g.compute_model = job_compute_model(job);
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
