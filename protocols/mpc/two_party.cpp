#include "protocols/mpc/two_party.h"

#include <stdexcept>

#include "protocols/comm/comm.h"
#include "protocols/mpc/additive_sharing.h"
#include "protocols/mpc/packed_words.h"
#include "protocols/fss/beaver.h"
#include "protocols/fss/ltz_gate.h"
#include "protocols/fss/spline_gate.h"
#include "protocols/fss/trunc_gate.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// A prepared weight: F = W - B opened at set-up, B this party's share of the weight mask.
struct PreparedMask final : PreparedWeight {
  WeightMask mask;
  RingTensor F;
};

const PreparedMask& prepared_mask(const Shared& w) {
  const auto* p = dynamic_cast<const PreparedMask*>(w.prepared.get());
  if (!p) throw std::logic_error("2pc-dealer: weight prepared by another backend");
  return *p;
}

RingTensor flat(const RingTensor& t) { return t.reshaped({t.numel()}); }

// A matrix that grows by rows, prepared (Backend::append_rows). Security, as for a prepared weight
// (SIGMA and other dealer-based engines reuse a Beaver mask on one operand the same way): every row's
// mask B is uniform and masks that row in exactly one opening, E = row - B, so E is uniform and
// independent of everything else seen; each product opens only F = x - A with a triple mask A drawn
// fresh for that product, so F is uniform too. The parties thus see independent uniform values only;
// B, reused across products, is never opened in any other form (it enters only the dealt C = A·B and
// each party's local share computation).
struct PreparedRows final : PreparedWeight {
  RowsMask mask;       // this party's share of every row's mask, (.., S, n)
  RingTensor opened;   // E of the rows opened so far, (.., S_open, n); undefined: none
  RingTensor pending;  // this party's share of row - B for the rows appended since, (.., P, n); undefined: none
};

const PreparedRows& prepared_rows(const Shared& cache) {
  const auto* p = dynamic_cast<const PreparedRows*>(cache.prepared.get());
  if (!p) throw std::logic_error("2pc-dealer: a cache product needs a cache built by append_rows");
  return *p;
}

RingTensor append_along_rows(const RingTensor& a, const RingTensor& b) {
  if (!a.defined()) return b;
  return concat({a, b}, static_cast<int>(b.rank()) - 2);
}

}  // namespace

TwoPartyBackend::TwoPartyBackend(Comm& comm, std::unique_ptr<PartyDealing> source, const BackendOptions& opt)
    : Backend(opt.fxp, opt.policy_for(Setting::two_pc_dealer)),
      comm_(comm),
      source_(std::move(source)),
      is_client_(comm.role() == Role::client),
      other_(comm.role() == Role::client ? Role::server : Role::client),
      phantom_(opt.phantom),
      prg_own_(Prg::from_os()) {
  require_compute_party(comm.role(), "online backend for");
  if (source_->party() != party()) throw std::invalid_argument("2pc-dealer: correlation source for the other party");
}

Role TwoPartyBackend::role() const { return comm_.role(); }
Ledger& TwoPartyBackend::ledger() { return comm_.ledger(); }

void TwoPartyBackend::add_public_inplace(Shared& a, const RingTensor& c) {
  if (is_client_) add_inplace(a.s0, c);
}

RingTensor TwoPartyBackend::exchange(const RingTensor& mine) {
  comm_.send(other_, mine);
  return comm_.recv(other_, mine.shape());
}

RingTensor TwoPartyBackend::exchange_low_bits(const RingTensor& mine, int bits) {
  send_low_bits(comm_, other_, mine, bits);
  return recv_low_bits(comm_, other_, mine.shape(), bits, phantom_);
}

Shared TwoPartyBackend::input(Role owner, const RingTensor& value) {
  return additive_input(comm_, other_, prg_own_, phantom_, owner, value, setting());
}

RingTensor TwoPartyBackend::reveal(const Shared& x, Role to) { return additive_reveal(comm_, other_, x, to); }

RingTensor TwoPartyBackend::reveal_all(const Shared& x) { return additive_reveal_all(comm_, other_, x); }

Shared TwoPartyBackend::mul(const Shared& x, const Shared& y) {
  OpScope op(ledger(), "mul");
  ledger().record_macs(static_cast<u64>(x.numel()));
  require_same(x, y, "mul");
  const Shape& s = x.shape();
  const MulTriple t = deal_mul_triple(*source_, s);
  const i64 n = x.numel();
  RingTensor ef = marill::concat({flat(marill::sub(x.s0, t.a)), flat(marill::sub(y.s0, t.b))}, 0);
  ef = marill::add(ef, exchange(ef));
  RingTensor e = slice(ef, 0, 0, n).reshaped(s), f = slice(ef, 0, n, 2 * n).reshaped(s);
  return Shared{mul_share(t, e, f, is_client_), {}, {}};
}

Shared TwoPartyBackend::square(const Shared& x) {
  OpScope op(ledger(), "square");
  ledger().record_macs(static_cast<u64>(x.numel()));
  const SquarePair p = deal_square_pair(*source_, x.shape());
  RingTensor e = marill::sub(x.s0, p.a);
  e = marill::add(e, exchange(e));
  return Shared{square_share(p, e, is_client_), {}, {}};
}

Shared TwoPartyBackend::prepare_weight(const Shared& w) {
  OpScope op(ledger(), "prepare_weight");
  require_weight_matrix(w);
  auto p = std::make_shared<PreparedMask>();
  p->mask = deal_weight_mask(*source_, w.shape());
  RingTensor f = marill::sub(w.s0, p->mask.b);
  p->F = marill::add(f, exchange(f));
  Shared out = w;
  out.prepared = std::move(p);
  return out;
}

Shared TwoPartyBackend::append_rows(const Shared& cache, const Shared& rows) {
  Shared out = Backend::append_rows(cache, rows);  // shape checks; this party's share of the whole cache
  auto p = cache.s0.defined() ? std::make_shared<PreparedRows>(prepared_rows(cache)) : std::make_shared<PreparedRows>();
  const RingTensor fresh = p->mask.append(*source_, rows.shape());
  p->pending = append_along_rows(p->pending, marill::sub(rows.s0, fresh));
  out.prepared = std::move(p);
  return out;
}

Shared TwoPartyBackend::matmul_cache(const Shared& x, Shared& cache, bool transposed) {
  return matmul_cache_left(x, cache, transposed, nullptr);
}

Shared TwoPartyBackend::matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset& nonzero) {
  return trunc(matmul_cache_left(x, cache, transposed, &nonzero), frac_bits());
}

Shared TwoPartyBackend::matmul_cache_left(const Shared& x, Shared& cache, bool transposed, const OutputSubset* nonzero) {
  OpScope op(ledger(), "matmul");
  auto p = std::make_shared<PreparedRows>(prepared_rows(cache));
  const WeightMask mask = p->mask.operand(transposed);
  const Shape& y = mask.b.shape();
  ledger().record_macs(matmul_macs(x.shape(), y));
  const MatmulTriple t = deal_matmul_triple(*source_, x.shape(), y, &mask, nonzero ? &nonzero->pos : nullptr);
  // One opening: the left operand (where it may be nonzero: A is zero where x is), and the rows no
  // product has opened yet.
  RingTensor mine = marill::sub(x.s0, t.a);
  mine = nonzero ? gather_flat(mine, nonzero->pos, {nonzero->count}) : flat(mine);
  const i64 nx = mine.numel();
  if (p->pending.defined()) mine = marill::concat({mine, flat(p->pending)}, 0);
  RingTensor all = marill::add(mine, exchange(mine));
  RingTensor E = slice(all, 0, 0, nx);
  E = nonzero ? scatter_flat(E, nonzero->pos, x.shape()) : E.reshaped(x.shape());
  if (p->pending.defined()) {
    p->opened = append_along_rows(p->opened, slice(all, 0, nx, all.numel()).reshaped(p->pending.shape()));
    p->pending = RingTensor();
  }
  const RingTensor F = transposed ? transpose_last2(p->opened) : p->opened;
  Shared out{matmul_share(t.a, mask.b, t.c, E, F, is_client_), {}, {}};
  cache.prepared = std::move(p);
  return out;
}

Shared TwoPartyBackend::matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed) {
  return trunc(matmul_cache(x, cache, transposed), frac_bits());
}

Shared TwoPartyBackend::matmul(const Shared& x, const Shared& y) { return matmul_many({{x, y}})[0]; }

std::vector<Shared> TwoPartyBackend::matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) {
  OpScope op(ledger(), "matmul");
  // Each product's material in order, then one exchange of every masked operand. A prepared right
  // operand's F is public since set-up: only the left operand is opened.
  std::vector<MatmulTriple> triples;
  std::vector<const PreparedMask*> preps;
  std::vector<RingTensor> masked;
  for (const auto& [x, y] : pairs) {
    ledger().record_macs(matmul_macs(x.shape(), y.shape()));
    const PreparedMask* prep = preps.emplace_back(y.prepared ? &prepared_mask(y) : nullptr);
    triples.push_back(deal_matmul_triple(*source_, x.shape(), y.shape(), prep ? &prep->mask : nullptr));
    masked.push_back(flat(marill::sub(x.s0, triples.back().a)));
    if (!prep) masked.push_back(flat(marill::sub(y.s0, triples.back().b)));
  }
  if (triples.empty()) return {};
  RingTensor all = masked.size() == 1 ? masked[0] : marill::concat(masked, 0);
  all = marill::add(all, exchange(all));
  std::vector<Shared> out;
  i64 at = 0;
  auto take = [&](const Shape& s) {
    RingTensor t = slice(all, 0, at, at + shape_numel(s)).reshaped(s);
    at += shape_numel(s);
    return t;
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [x, y] = pairs[i];
    const PreparedMask* prep = preps[i];
    RingTensor E = take(x.shape());
    RingTensor F = prep ? prep->F : take(y.shape());
    const RingTensor& B = prep ? prep->mask.b : triples[i].b;
    out.push_back(Shared{matmul_share(triples[i].a, B, triples[i].c, E, F, is_client_), {}, {}});
  }
  return out;
}

std::vector<Shared> TwoPartyBackend::mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights) {
  std::vector<const PreparedMask*> preps;
  for (const PrivateWeight* w : weights) {
    if (!w || w->empty()) throw std::invalid_argument("mmul_sv_x: no private weight (set up with setup_private_weight)");
    if (!w->shares.prepared) return Backend::mmul_sv_x(x, weights);
    preps.push_back(&prepared_mask(w->shares));
  }
  OpScope op(ledger(), "matmul");
  std::vector<const WeightMask*> masks;
  for (size_t i = 0; i < weights.size(); ++i) {
    ledger().record_macs(matmul_macs(x.shape(), weights[i]->shape));
    masks.push_back(&preps[i]->mask);
  }
  const OneLeftTriples t = deal_matmul_triples_one_left(*source_, x.shape(), masks);
  RingTensor mine = flat(marill::sub(x.s0, t.a));
  const RingTensor E = marill::add(mine, exchange(mine)).reshaped(x.shape());
  std::vector<Shared> out;
  for (size_t i = 0; i < weights.size(); ++i) out.push_back(Shared{matmul_share(t.a, masks[i]->b, t.c[i], E, preps[i]->F, is_client_), {}, {}});
  return out;
}

Shared TwoPartyBackend::trunc(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  const TruncMaterial m = deal_trunc(*source_, x.shape(), d);
  return Shared{trunc_share(open_truncation_input(x, m.r), m.r_hi, m.r_msb, d, is_client_), {}, {}};
}

RingTensor TwoPartyBackend::open_masked(const RingTensor& share, const RingTensor& r) {
  const RingTensor mine = marill::add(share, r);
  return marill::add(mine, exchange(mine));
}

RingTensor TwoPartyBackend::open_truncation_input(const Shared& x, const RingTensor& r) {
  return open_masked(is_client_ ? marill::add_scalar(x.s0, kTruncOffset) : x.s0, r);
}

Shared TwoPartyBackend::trunc_square(const Shared& x, int d) {
  OpScope op(ledger(), "trunc");
  const TruncSquareMaterial m = deal_trunc_square(*source_, x.shape(), d);
  return Shared{trunc_square_share(open_truncation_input(x, m.trunc.r), m, d, is_client_), {}, {}};
}

Shared TwoPartyBackend::ltz(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits, low);
  const Shape& s = x.shape();
  LtzMaterial m = deal_ltz(*source_, s, bits, low);
  RingTensor xhat = open_masked(x.s0, m.r);
  // The keys hide r >> low: they compare (x^ >> low) - (r >> low) = floor(x / 2^low) + {0, 1}.
  if (low) xhat = shift_right_logical(xhat, low);
  if (phantom_) {
    ltz_eval_work(bits - low, x.numel(), 1);  // what ltz_eval counts in a real run
    return Shared{RingTensor::phantom(s), {}, {}};
  }
  LtzKeys keys = ltz_deserialize(std::move(m.keys), x.numel(), bits - low);
  RingTensor out(s);
  ltz_eval(party(), keys, xhat.data(), out.data());
  return Shared{std::move(out), {}, {}};
}

Shared TwoPartyBackend::ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) {
  OpScope op(ledger(), "ltz");
  check_ltz_bits(bits);
  const i64 n = x.numel(), K = static_cast<i64>(knots.size());
  LtzMaterial m = deal_ltz(*source_, {n}, bits);
  const RingTensor xhat = open_masked(x.s0.reshaped({n}), m.r);
  if (phantom_) {
    ltz_eval_shifts_work(bits, n, knots.data(), static_cast<int>(K), 1);  // what ltz_eval_shifts counts in a real run
    return Shared{RingTensor::phantom({K, n}), {}, {}};
  }
  // One key on r for every knot: x - K_i = (x^ - K_i) - r (Boyle et al. 2021's comparisons of one
  // masked input against many public points, as the spline gate's knots).
  const LtzKeys keys = ltz_deserialize(std::move(m.keys), n, bits);
  RingTensor out({K, n});
  ltz_eval_shifts(party(), keys, xhat.data(), knots.data(), static_cast<int>(K), out.data());
  return Shared{std::move(out), {}, {}};
}

Shared TwoPartyBackend::mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths) {
  require_rows(x, y, lengths);
  OpScope op(ledger(), "mul");
  const RowsTriple t = deal_rows_triple(*source_, lengths);
  RingTensor mine = marill::concat({marill::sub(flat(x.s0), t.a), marill::sub(flat(y.s0), t.b)}, 0);
  const RingTensor all = marill::add(mine, exchange(mine));
  const RingTensor e = slice(all, 0, 0, x.numel());
  const RingTensor f = slice(all, 0, x.numel(), all.numel());
  return Shared{rows_share(t, e, f, lengths, is_client_).reshaped(x.shape()), {}, {}};
}

Shared TwoPartyBackend::negative_part(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "negative_part");
  check_ltz_bits(bits, low);
  const Shape& s = x.shape();
  const i64 n = x.numel();
  NegativePartMaterial m = deal_negative_part(*source_, s, bits, low);
  const RingTensor xhat = open_masked(x.s0, m.r);
  // The keys compare x^'s bits [low, bits) (as ltz), the product uses all of x^.
  const RingTensor base = low ? shift_right_logical(xhat, low) : xhat;
  const u64 zero = 0;
  count_work(WorkKind::ring_elem, 2 * static_cast<u64>(n));
  if (phantom_) {
    ltz_eval_shifts_work(bits - low, n, &zero, 1, 1, 1);  // what ltz_eval_shifts counts in a real run
    exchange_low_bits(RingTensor::phantom(s), 1);
    return Shared{RingTensor::phantom(s), {}, {}};
  }
  const LtzKeys keys = ltz_deserialize(std::move(m.keys), n, bits - low, 1, 1);
  RingTensor b(s);  // shares of [x < 0] mod 2^8: their low bits XOR-share it
  ltz_eval_shifts(party(), keys, base.data(), &zero, 1, b.data());
  RingTensor mine(s);
  for (i64 e = 0; e < n; ++e) mine.data()[e] = (b.data()[e] + m.u.data()[e]) & 1;
  const RingTensor theirs = exchange_low_bits(mine, 1);  // c = b ^ u, one bit per element (ltz_gate.h)
  // [x<0] = c + (1 - 2c) u and [x<0]·r = c r + (1 - 2c) u r, so [x<0]·x = [x<0]·x^ - [x<0]·r.
  RingTensor res(s);
  for (i64 e = 0; e < n; ++e) {
    const u64 c = (mine.data()[e] ^ theirs.data()[e]) & 1, flip = 1 - 2 * c;
    const u64 bit = (party() == 0 ? c : 0) + flip * m.u.data()[e];
    const u64 bit_r = c * m.r.data()[e] + flip * m.ur.data()[e];
    res.data()[e] = bit * xhat.data()[e] - bit_r;
  }
  return Shared{std::move(res), {}, {}};
}

Shared TwoPartyBackend::spline(const Shared& x, const SplineTable& t) {
  if (t.degree > kMaxSplineGateDegree) return Backend::spline(x, t);  // cubic: comparisons and products
  OpScope op(ledger(), "spline");
  const Shape& s = x.shape();
  const i64 n = x.numel();
  SplineMaterial m = deal_spline(*source_, s, t);
  const RingTensor xhat = open_masked(x.s0, m.r);
  const int tr = t.scale - t.out_frac;
  const int index_bits = spline_index_bits(t);  // the masked piece index travels at its width
  Shared res;
  if (phantom_) {
    spline_index_work(t, n);  // what the gate's two steps count in a real run
    exchange_low_bits(RingTensor::phantom(s), index_bits);
    spline_table_work(t, n);
    res = Shared{RingTensor::phantom(s), {}, {}};
  } else {
    const RingTensor mine = spline_index_share(party(), t, m, xhat);
    RingTensor u = exchange_low_bits(mine, index_bits);
    for (i64 e = 0; e < n; ++e) u.data()[e] = (u.data()[e] + mine.data()[e]) & ((u64{1} << index_bits) - 1);
    res = Shared{spline_local(party(), t, m, xhat, u), {}, {}};
  }
  return tr > 0 ? trunc(res, tr) : res;
}

}  // namespace marill
