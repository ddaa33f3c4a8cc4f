#include "protocols/mpc/dealer_backend.h"

#include <filesystem>
#include <stdexcept>

#include "protocols/fss/beaver.h"
#include "protocols/fss/ltz_gate.h"
#include "protocols/fss/spline_gate.h"
#include "protocols/fss/trunc_gate.h"
#include "protocols/ring/cpu_meter.h"

namespace marill {

namespace {

Shared shape_only(const Shape& s) { return Shared{RingTensor::phantom(s), {}, {}}; }

// The dealer's side of a prepared weight: the whole mask.
struct DealtWeightMask final : PreparedWeight {
  WeightMask mask;
};

// The dealer's side of a prepared cache (Backend::append_rows): every row's whole mask.
struct DealtRowsMask final : PreparedWeight {
  RowsMask mask;
};

const DealtRowsMask& dealt_rows_mask(const Shared& cache) {
  const auto* p = dynamic_cast<const DealtRowsMask*>(cache.prepared.get());
  if (!p) throw std::logic_error("2pc-dealer: a cache product needs a cache built by append_rows");
  return *p;
}

}  // namespace

DealerBackend::DealerBackend(Ledger& ledger, std::unique_ptr<DealerDealing> dealing, const BackendOptions& opt, Comm* comm)
    : Backend(opt.fxp, opt.policy_for(Setting::two_pc_dealer)), ledger_(ledger), dealing_(std::move(dealing)), comm_(comm) {
  ledger_.phase = Phase::offline;
}

Shared DealerBackend::input(Role owner, const RingTensor& value) {
  require_compute_party(owner, "input from");
  return shape_only(value.shape());
}

RingTensor DealerBackend::reveal(const Shared& x, Role to) {
  require_compute_party(to, "reveal to");
  return RingTensor::phantom(x.shape());
}

RingTensor DealerBackend::reveal_all(const Shared& x) { return RingTensor::phantom(x.shape()); }

Shared DealerBackend::mul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "mul");
  ledger().record_macs(static_cast<u64>(x.numel()));
  require_same(x, y, "mul");
  deal_mul_triple(*dealing_, x.shape());
  return shape_only(x.shape());
}

Shared DealerBackend::square(const Shared& x) {
  OpScope op(ledger(), "square");
  ledger().record_macs(static_cast<u64>(x.numel()));
  deal_square_pair(*dealing_, x.shape());
  return shape_only(x.shape());
}

Shared DealerBackend::prepare_weight(const Shared& w) {
  OpScope op(ledger(), "prepare_weight");
  require_weight_matrix(w);
  auto p = std::make_shared<DealtWeightMask>();
  p->mask = deal_weight_mask(*dealing_, w.shape());
  Shared out = w;
  out.prepared = std::move(p);
  return out;
}

Shared DealerBackend::matmul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "matmul");
  ledger().record_macs(matmul_macs(x.shape(), y.shape()));
  const WeightMask* weight = nullptr;
  if (y.prepared) {
    const auto* p = dynamic_cast<const DealtWeightMask*>(y.prepared.get());
    if (!p) throw std::logic_error("2pc-dealer: weight prepared by another backend");
    weight = &p->mask;
  }
  deal_matmul_triple(*dealing_, x.shape(), y.shape(), weight);
  return shape_only(matmul_shape(x.shape(), y.shape()));
}

std::vector<Shared> DealerBackend::mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights) {
  std::vector<const WeightMask*> masks;
  for (const PrivateWeight* w : weights) {
    if (!w || w->empty()) throw std::invalid_argument("mmul_sv_x: no private weight (set up with setup_private_weight)");
    if (!w->shares.prepared) return Backend::mmul_sv_x(x, weights);  // as the parties do
    const auto* p = dynamic_cast<const DealtWeightMask*>(w->shares.prepared.get());
    if (!p) throw std::logic_error("2pc-dealer: weight prepared by another backend");
    masks.push_back(&p->mask);
  }
  OpScope op(ledger(), "matmul");
  std::vector<Shared> out;
  for (const PrivateWeight* w : weights) {
    ledger().record_macs(matmul_macs(x.shape(), w->shape));
    out.push_back(shape_only(matmul_shape(x.shape(), w->shape)));
  }
  deal_matmul_triples_one_left(*dealing_, x.shape(), masks);
  return out;
}

Shared DealerBackend::mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths) {
  require_rows(x, y, lengths);
  OpScope op(ledger(), "mul");
  deal_rows_triple(*dealing_, lengths);
  return shape_only(x.shape());
}

Shared DealerBackend::trunc_square(const Shared& x, int bits) {
  OpScope op(ledger(), "trunc");
  deal_trunc_square(*dealing_, x.shape(), bits);
  return shape_only(x.shape());
}

Shared DealerBackend::negative_part(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "negative_part");
  check_ltz_bits(bits, low);
  deal_negative_part(*dealing_, x.shape(), bits, low);
  return shape_only(x.shape());
}

Shared DealerBackend::append_rows(const Shared& cache, const Shared& rows) {
  Shared out = Backend::append_rows(cache, rows);
  auto p = cache.s0.defined() ? std::make_shared<DealtRowsMask>(dealt_rows_mask(cache)) : std::make_shared<DealtRowsMask>();
  p->mask.append(*dealing_, rows.shape());
  out.prepared = std::move(p);
  return out;
}

bool DealerBackend::real_run() const { return !dealing_->phantom(); }

Shared DealerBackend::matmul_cache(const Shared& x, Shared& cache, bool transposed) {
  return matmul_cache_left(x, cache, transposed, nullptr);
}

Shared DealerBackend::matmul_cache_left(const Shared& x, const Shared& cache, bool transposed, const std::vector<i64>* nonzero) {
  OpScope op(ledger(), "matmul");
  const WeightMask mask = dealt_rows_mask(cache).mask.operand(transposed);
  ledger().record_macs(matmul_macs(x.shape(), mask.b.shape()));
  deal_matmul_triple(*dealing_, x.shape(), mask.b.shape(), &mask, nonzero);
  return shape_only(matmul_shape(x.shape(), mask.b.shape()));
}

Shared DealerBackend::matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed) {
  return trunc(matmul_cache(x, cache, transposed), frac_bits());
}

Shared DealerBackend::matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset& nonzero) {
  // Real material zeroes the mask where x is zero: the positions themselves are needed.
  if (real_run() && static_cast<i64>(nonzero.pos.size()) != nonzero.count)
    throw std::invalid_argument("matmul_cache_trunc_sparse: " + std::to_string(nonzero.pos.size()) + " positions for " + std::to_string(nonzero.count) +
                                " nonzero entries (a real run lists them)");
  return trunc(matmul_cache_left(x, cache, transposed, &nonzero.pos), frac_bits());
}

Shared DealerBackend::trunc(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  deal_trunc(*dealing_, x.shape(), d);
  return shape_only(x.shape());
}

Shared DealerBackend::ltz(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits, low);
  deal_ltz(*dealing_, x.shape(), bits, low);
  return shape_only(x.shape());
}

Shared DealerBackend::ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits);
  deal_ltz(*dealing_, {x.numel()}, bits);
  return shape_only({static_cast<i64>(knots.size()), x.numel()});
}

Shared DealerBackend::spline(const Shared& x, const SplineTable& t) {
  if (t.degree > kMaxSplineGateDegree) return Backend::spline(x, t);  // as the parties do
  OpScope op(ledger(), "spline");
  deal_spline(*dealing_, x.shape(), t);
  const int tr = t.scale - t.out_frac;
  return tr > 0 ? trunc(shape_only(x.shape()), tr) : shape_only(x.shape());
}

DealReport deal_key_files(const BackendOptions& opt, const std::string& dir, const std::function<void(Backend&)>& program) {
  if (opt.phantom) throw std::invalid_argument("deal: key files hold real material; phantom runs need none");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw KeyFileError("cannot create key directory '" + dir + "': " + ec.message());
  DealReport report;
  const double cpu0 = party_cpu_seconds();
  report.ledger.start(cpu0);
  report.ledger.phase = Phase::offline;
  const DealerDealing::Keys keys = dealer_keys(opt.correlations.dealer_seed);
  report.run_id = Prg::from_os().next_u64();  // names the pair of files, never derived from the keys
  auto dealing = std::make_unique<DealerDealing>(keys, false, key_file_output(dir, report.run_id, keys, report.ledger));
  DealerBackend dealer(report.ledger, std::move(dealing), opt);
  program(dealer);
  dealer.finish();
  const double cpu1 = party_cpu_seconds();
  report.ledger.finish(cpu1);
  report.cpu_s = cpu1 - cpu0;
  for (int p = 0; p < 2; ++p) report.file_bytes[p] = std::filesystem::file_size(key_file_path(dir, p));
  return report;
}

}  // namespace marill
