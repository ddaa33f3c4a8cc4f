#include "protocols/mpc/backend_2pc.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "protocols/comm/comm.h"
#include "protocols/mpc/additive_sharing.h"
#include "protocols/mpc/correlation_source.h"
#include "protocols/ot/ot_extension.h"
#include "protocols/ot/ot_triples.h"
#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// A 2pc op's local arithmetic (work_meter.h): the leaf kernels it calls are discarded, since its
// phantom path skips most of them, and one element operation per output element is counted in
// their place. Its OT and HE work, which dominates, is counted exactly by those layers.
class LocalWork {
 public:
  explicit LocalWork(i64 elements = 0) : elements_(elements) { discard_.emplace(); }
  ~LocalWork() {
    discard_.reset();
    count_work(WorkKind::ring_elem, elements_);
  }
  LocalWork(const LocalWork&) = delete;
  LocalWork& operator=(const LocalWork&) = delete;
  void add(i64 elements) { elements_ += elements; }

 private:
  i64 elements_;
  std::optional<DiscardWorkScope> discard_;
};

// Marks an ltz output: its value is 0 or 1, so the LSBs of the two additive shares are XOR shares
// of it and a product with it is a multiplexer (dropped, as any prepared state, by the next op).
struct BitSharing final : PreparedWeight {};

bool is_bit(const Shared& s) { return dynamic_cast<const BitSharing*>(s.prepared.get()) != nullptr; }

BitShares lsbs(const RingTensor& t) {
  BitShares b(static_cast<std::size_t>(t.numel()), 0);
  if (!t.is_phantom())
    for (i64 i = 0; i < t.numel(); ++i) b[static_cast<std::size_t>(i)] = t[i] & 1;
  return b;
}

RingTensor rows_of(const RingTensor& x) {  // (..., k) -> (M, k)
  const i64 k = x.shape().back();
  return x.reshaped({k == 0 ? 0 : x.numel() / k, k});
}

Shape with_last(Shape s, i64 n) {
  s.back() = n;
  return s;
}

}  // namespace

TwoPcBackend::TwoPcBackend(Comm& comm, const BackendOptions& opt)
    : Backend(opt.fxp, opt.policy_for(Setting::two_pc)),
      comm_(comm),
      is_client_(comm.role() == Role::client),
      other_(comm.role() == Role::client ? Role::server : Role::client),
      phantom_(opt.phantom),
      softspoken_k_(require_softspoken_k(opt.correlations.ot_softspoken_k)),
      prg_own_(Prg::from_os()),
      gates_(comm, comm.role() == Role::client ? Role::server : Role::client, softspoken_k_) {
  require_compute_party(comm.role(), "2pc backend for");
}

TwoPcBackend::~TwoPcBackend() = default;

Role TwoPcBackend::role() const { return comm_.role(); }
Ledger& TwoPcBackend::ledger() { return comm_.ledger(); }

OtGates& TwoPcBackend::gates() {
  gates_.set_up();
  return gates_;
}

HeMatmul& TwoPcBackend::he() {
  if (!he_) {
    he_ = std::make_unique<HeMatmul>(comm_, other_, he_options());
    OpScope op(ledger(), "he_setup");
    he_->set_up();
  }
  return *he_;
}

void TwoPcBackend::add_public_inplace(Shared& a, const RingTensor& c) {
  if (is_client_) add_inplace(a.s0, c);
}

Shared TwoPcBackend::input(Role owner, const RingTensor& value) {
  return additive_input(comm_, other_, prg_own_, phantom_, owner, value, setting());
}

RingTensor TwoPcBackend::reveal(const Shared& x, Role to) { return additive_reveal(comm_, other_, x, to); }

RingTensor TwoPcBackend::reveal_all(const Shared& x) { return additive_reveal_all(comm_, other_, x); }

Shared TwoPcBackend::bit_times(const Shared& bit, const Shared& v) {
  require_same(bit, v, "mul by a bit");
  return Shared{gates().mux(phantom_ ? BitShares{} : lsbs(bit.s0), v.s0), {}, {}};
}

Shared TwoPcBackend::mul(const Shared& a, const Shared& b) {
  OpScope op(ledger(), "mul");
  const LocalWork local(a.numel());
  require_same(a, b, "mul");
  ledger().record_macs(static_cast<u64>(a.numel()));
  if (is_bit(a)) return bit_times(a, b);
  if (is_bit(b)) return bit_times(b, a);
  RingTensor cross = gilboa_cross_products(comm_, gates().extension(), a.s0, b.s0);
  if (phantom_) return Shared{RingTensor::phantom(a.shape()), {}, {}};
  add_inplace(cross, mul_elem(a.s0, b.s0));
  return Shared{std::move(cross), {}, {}};
}

Shared TwoPcBackend::square(const Shared& a) {
  OpScope op(ledger(), "square");
  const LocalWork local(a.numel());
  ledger().record_macs(static_cast<u64>(a.numel()));
  // x^2 = x0^2 + x1^2 + 2·x0·x1: one Gilboa product, the client's 2·x0 against the server's x1.
  OtExtension& ext = gates().extension();
  RingTensor cross = is_client_ ? gilboa_product_send(comm_, ext.sender(), phantom_ ? a.s0 : marill::scale(a.s0, 2))
                                : gilboa_product_receive(comm_, ext.receiver(), a.s0);
  if (phantom_) return Shared{RingTensor::phantom(a.shape()), {}, {}};
  add_inplace(cross, mul_elem(a.s0, a.s0));
  return Shared{std::move(cross), {}, {}};
}

Shared TwoPcBackend::matmul(const Shared& a, const Shared& b) { return matmul_many({{a, b}})[0]; }

namespace {

// (batch, m, k) x (batch, k, n) as batch·m·n·k element-wise pairs: a[b,i,j] and w[b,j,l] at (b,i,l,j).
std::pair<RingTensor, RingTensor> expand_for_elementwise(const RingTensor& a3, const RingTensor& b3) {
  const i64 batch = a3.dim(0), m = a3.dim(1), k = a3.dim(2), n = b3.dim(2);
  const Shape s{batch * m * n * k};
  if (a3.is_phantom() || b3.is_phantom()) return {RingTensor::phantom(s), RingTensor::phantom(s)};
  RingTensor x(s), y(s);
  i64 at = 0;
  for (i64 b = 0; b < batch; ++b)
    for (i64 i = 0; i < m; ++i)
      for (i64 l = 0; l < n; ++l)
        for (i64 j = 0; j < k; ++j, ++at) {
          x[at] = a3[(b * m + i) * k + j];
          y[at] = b3[(b * k + j) * n + l];
        }
  return {std::move(x), std::move(y)};
}

}  // namespace

u64 TwoPcBackend::he_shared_bytes(i64 m, i64 k, i64 n) {
  const HeMatmulOptions o;
  const HeContext& ctx = *he_context(o.params);
  return plan_he_matmul(ctx, m, k, n, o.weight_bits, o.max_pack_log, HeMatmul::kSharedLimbs, o.key_switch_bytes).total_bytes() +
         plan_he_matmul(ctx, n, k, m, o.weight_bits, o.max_pack_log, HeMatmul::kSharedLimbs, o.key_switch_bytes).total_bytes();
}

u64 TwoPcBackend::ot_shared_bytes(i64 products, int softspoken_k) {
  return 2 * (iknp_receiver_bytes(64 * products, softspoken_k) + packed_bytes(2080 * static_cast<u64>(products)));
}

std::vector<Shared> TwoPcBackend::matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs) {
  OpScope op(ledger(), "matmul");
  LocalWork local;
  // Each product by HE (rank-2 pieces, a batched product one piece per batch entry, all in one round
  // trip) or, where that sends fewer bytes (row sums, tiny products), as element-wise Gilboa products
  // summed locally (one round trip for all of those).
  std::vector<std::pair<RingTensor, RingTensor>> pieces;
  std::vector<Shape> out_shapes;
  std::vector<i64> counts;  // HE pieces of product i; 0: by OT
  RingTensor ot_x, ot_y;
  std::vector<RingTensor> ot_xs, ot_ys;
  for (const auto& [a, b] : pairs) {
    const RingTensor probe = marill::matmul(RingTensor::phantom(a.shape()), RingTensor::phantom(b.shape()));  // shape checks
    local.add(probe.numel());
    out_shapes.push_back(probe.shape());
    ledger().record_macs(matmul_macs(a.shape(), b.shape()));
    const i64 m = a.s0.dim(-2), k = a.s0.dim(-1), n = b.s0.dim(-1);
    const i64 batch = m * k == 0 ? 1 : a.numel() / (m * k);
    const bool b_batched = b.s0.rank() > 2;
    const u64 he_bytes = (b_batched ? static_cast<u64>(batch) : 1) * he_shared_bytes(b_batched ? m : batch * m, k, n);
    if (ot_shared_bytes(batch * m * k * n, softspoken_k_) < he_bytes) {
      const RingTensor a3 = a.s0.reshaped({b_batched ? batch : 1, b_batched ? m : batch * m, k});
      const RingTensor b3 = b_batched ? b.s0.reshaped({batch, k, n}) : b.s0.reshaped({1, k, n});
      auto [x, y] = expand_for_elementwise(a3, b3);
      ot_xs.push_back(std::move(x));
      ot_ys.push_back(std::move(y));
      counts.push_back(0);
    } else if (!b_batched) {
      pieces.emplace_back(rows_of(a.s0), b.s0);
      counts.push_back(1);
    } else {
      const RingTensor a3 = a.s0.reshaped({batch, m, k}), b3 = b.s0.reshaped({batch, k, n});
      for (i64 i = 0; i < batch; ++i) pieces.emplace_back(slice(a3, 0, i, i + 1).reshaped({m, k}), slice(b3, 0, i, i + 1).reshaped({k, n}));
      counts.push_back(batch);
    }
  }
  std::vector<RingTensor> prods;
  if (!pieces.empty()) prods = is_client_ ? he().client_shared_products(pieces) : he().server_shared_products(pieces);
  RingTensor elementwise;
  if (!ot_xs.empty()) {
    const RingTensor x = ot_xs.size() == 1 ? ot_xs[0] : marill::concat(ot_xs, 0), y = ot_ys.size() == 1 ? ot_ys[0] : marill::concat(ot_ys, 0);
    elementwise = gilboa_cross_products(comm_, gates().extension(), x, y);
    if (!phantom_) add_inplace(elementwise, mul_elem(x, y));
  }
  std::vector<Shared> out;
  size_t at = 0;
  i64 ot_at = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (phantom_) {
      out.push_back(Shared{RingTensor::phantom(out_shapes[i]), {}, {}});
      continue;
    }
    if (counts[i] == 0) {  // sum the k products of each output
      const i64 k = pairs[i].first.s0.dim(-1), outputs = shape_numel(out_shapes[i]);
      RingTensor r(out_shapes[i]);
      for (i64 o = 0; o < outputs; ++o) {
        u64 sum = 0;
        for (i64 j = 0; j < k; ++j) sum += elementwise[ot_at + o * k + j];
        r[o] = sum;
      }
      ot_at += outputs * k;
      out.push_back(Shared{std::move(r), {}, {}});
      continue;
    }
    std::vector<RingTensor> parts(prods.begin() + static_cast<std::ptrdiff_t>(at), prods.begin() + static_cast<std::ptrdiff_t>(at + counts[i]));
    at += static_cast<size_t>(counts[i]);
    RingTensor r = parts.size() == 1 ? parts[0] : marill::concat(parts, 0);
    out.push_back(Shared{r.reshaped(out_shapes[i]), {}, {}});
  }
  return out;
}

Shared TwoPcBackend::trunc(const Shared& x, int bits) {
  if (bits == 0) return Shared{x.s0, {}, {}};
  OpScope op(ledger(), "trunc");
  const LocalWork local(x.numel());
  return Shared{gates().trunc(x.s0, bits), {}, {}};
}

Shared TwoPcBackend::ltz(const Shared& x, int bits, int low) {
  OpScope op(ledger(), "ltz");
  const LocalWork local(x.numel());
  check_ltz_bits(bits, low);
  Shared out{gates().ltz(x.s0, bits, low), {}, {}};
  out.prepared = std::make_shared<BitSharing>();
  return out;
}

Shared TwoPcBackend::ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits) {
  OpScope op(ledger(), "ltz");
  const LocalWork local(x.numel() * static_cast<i64>(knots.size()));
  check_ltz_bits(bits);
  return Shared{gates().ltz_many(x.s0.reshaped({x.numel()}), knots, bits), {}, {}};
}

Shared TwoPcBackend::select(const Shared& bit, const Shared& a, const Shared& b) {
  OpScope op(ledger(), "select");
  const LocalWork local(a.numel());
  require_same(a, b, "select");
  Shared diff = sub(a, b);
  RingTensor bb = bit.s0;
  if (bit.shape() != a.shape()) {
    if (bit.shape().empty() || bit.shape().back() != 1 || bit.numel() * a.shape().back() != a.numel())
      throw std::invalid_argument("select: condition " + shape_str(bit.shape()) + " does not broadcast to " + shape_str(a.shape()));
    bb = broadcast_last(bit.s0, a.shape().back());
  }
  return add(b, bit_times(Shared{bb, {}, {}}, diff));
}

PrivateWeight TwoPcBackend::setup_private_weight(const Private& w) {
  if (w.shape().size() != 2) throw std::invalid_argument("private weight must be (k,n), got " + shape_str(w.shape()));
  if (w.owner != Role::server) throw std::invalid_argument("2pc: a private weight belongs to the server (HE products multiply by the server's plaintext)");
  if (role() == Role::server && w.value.is_phantom() && !phantom_) throw std::invalid_argument("2pc: the server must pass its weight's data");
  PrivateWeight out;
  out.owner = w.owner;
  out.shape = w.shape();
  out.frac_bits = w.frac_bits;
  out.shares = Shared{role() == Role::server ? w.value : RingTensor::phantom(w.shape()), {}, {}};  // stays at its owner
  return out;
}

Shared TwoPcBackend::mmul_sv(const Shared& x, const PrivateWeight& w) { return mmul_sv_many({{x, &w}})[0]; }

int TwoPcBackend::he_k_splits(i64 m, i64 k, i64 n) const {
  const HeMatmulOptions o = he_options();
  const HeContext& ctx = *he_context(o.params);
  for (int parts = 1; parts <= k; parts *= 2) {
    try {
      (void)plan_he_matmul(ctx, m, (k + parts - 1) / parts, n, o.weight_bits, o.max_pack_log);
      return parts;
    } catch (const std::invalid_argument&) {
      // this inner length's noise does not fit: split further
    }
  }
  throw std::invalid_argument("2pc: no split of the inner dimension " + std::to_string(k) + " fits the HE noise budget");
}

std::vector<Shared> TwoPcBackend::mmul_sv_many(const std::vector<std::pair<Shared, const PrivateWeight*>>& products) {
  OpScope op(ledger(), "matmul");
  LocalWork local;
  // A long inner dimension is cut into parts whose noise fits (x[:, part] · W[part, :], the shares
  // summed): every part's upload goes out before any response, one round trip for all.
  std::vector<std::pair<RingTensor, i64>> uploads;
  std::vector<std::pair<RingTensor, RingTensor>> served;
  std::vector<size_t> pieces_of;  // HE products of product i: its inner dimension's parts
  for (const auto& [x, w] : products) {
    if (!w || w->empty()) throw std::invalid_argument("mmul_sv: no private weight (set up with setup_private_weight)");
    if (x.shape().empty() || x.shape().back() != w->shape[0])
      throw std::invalid_argument("mmul_sv: " + shape_str(x.shape()) + " times a weight " + shape_str(w->shape));
    ledger().record_macs(matmul_macs(x.shape(), w->shape));
    local.add(x.numel() / w->shape[0] * w->shape[1]);
    const RingTensor rows = rows_of(x.s0);
    const i64 k = w->shape[0], n = w->shape[1];
    const int parts = he_k_splits(rows.dim(0), k, n);
    const i64 step = (k + parts - 1) / parts;
    pieces_of.push_back(0);
    for (i64 a = 0; a < k; a += step, ++pieces_of.back()) {
      const i64 b = std::min(k, a + step);
      const RingTensor xs = parts == 1 ? rows : slice(rows, 1, a, b);
      if (is_client_) uploads.emplace_back(xs, n);
      else served.emplace_back(xs, parts == 1 ? w->shares.s0 : slice(w->shares.s0, 0, a, b));
    }
  }
  const std::vector<RingTensor> prods = is_client_ ? he().client_products(uploads) : he().server_products(served);
  std::vector<Shared> out;
  size_t at = 0;
  for (size_t i = 0; i < products.size(); ++i) {
    const Shape shape = with_last(products[i].first.shape(), products[i].second->shape[1]);
    const size_t first = at;
    at += pieces_of[i];
    if (phantom_) {
      out.push_back(Shared{RingTensor::phantom(shape), {}, {}});
      continue;
    }
    RingTensor sum = prods[first];
    for (size_t p = first + 1; p < at; ++p) add_inplace(sum, prods[p]);
    out.push_back(Shared{sum.reshaped(shape), {}, {}});
  }
  return out;
}

HeMatmulOptions TwoPcBackend::he_options() const {
  HeMatmulOptions o;
  o.weight_bits = frac_bits() + kWeightIntegerBits;  // public bound; the server refuses a larger weight
  return o;
}

}  // namespace marill
