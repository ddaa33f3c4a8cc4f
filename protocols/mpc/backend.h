// The backend interface: one method per secure primitive (sytorch-style). Functions (exp, softmax,
// ...) and the secure transformer are written only against this interface, so the same program runs
// on every setting, real or phantom, and under the dealer's keygen backend.
//
// Encodings: values are fixed point (FixedPoint, s fractional bits) unless a method says otherwise.
// mul/matmul do NOT truncate (the product carries 2s fractional bits); call trunc() or mul_trunc().
// ltz() returns an *integer* 0/1 sharing (not fixed point) that select()/mul() consume directly.
//
// Per-setting costs (bytes sent per party per output element, rounds) are stated in each backend's
// header and pinned by tests/core/test_ledger_closed_forms.cpp.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/ring/fixed_point.h"
#include "protocols/comm/ledger.h"
#include "protocols/mpc/function_policy.h"
#include "protocols/ring/ring.h"
#include "protocols/comm/roles.h"
#include "protocols/mpc/correlation_options.h"

// (ltz bit widths are checked by check_ltz_bits below)

namespace marill {

class Comm;
struct SplineTable;

// A secret-shared tensor as one party sees it. The meaning of the components is the backend's:
// cleartext: s0 = the value; 2pc/2pc-dealer: s0 = this party's additive share; 3pc: (s0, s1) =
// this party's two replicated shares (x_i, x_{i+1}); dealer keygen: phantom (shape only).
// Set-up state a backend attaches to a secret weight (see Backend::prepare_weight).
struct PreparedWeight {
  virtual ~PreparedWeight() = default;
};

struct Shared {
  RingTensor s0, s1;
  std::shared_ptr<const PreparedWeight> prepared;  // set by prepare_weight; dropped by any op
  const Shape& shape() const { return s0.shape(); }
  i64 numel() const { return s0.numel(); }
  bool phantom() const { return s0.is_phantom(); }
};

// Who can see a value (DESIGN.md, values and backends): everyone (a RingTensor), the computing
// parties only through shares (Shared), or one role alone (Private: the server's weights).
enum class Visibility : std::uint8_t { public_value, shared, private_value };
const char* visibility_name(Visibility v);

// A tensor private to one role: the owner holds the data, every other party its shape only.
struct Private {
  Role owner = Role::server;
  RingTensor value;   // owner: the data; other parties: RingTensor::phantom(shape)
  int frac_bits = 0;  // fixed-point fractional bits of value
  const Shape& shape() const { return value.shape(); }
};

// A role's private weight (k,n) made ready for products x·W with shared x (Backend::mmul_sv).
// How is the setting's business: 3pc and 2pc-dealer secret-share it once at set-up (2pc-dealer
// also opens its mask, so each product opens only x); a 2pc backend keeps it at its owner and
// multiplies under homomorphic encryption.
struct PrivateWeight {
  Role owner = Role::server;
  Shape shape;
  int frac_bits = 0;
  Shared shares;  // the setting's representation (a prepared sharing in 3pc and 2pc-dealer)
  bool empty() const { return shape.empty(); }
};

// The outputs of a product a caller reads: how many and their flat positions, ascending (left empty
// in a phantom run, which needs only the count).
struct OutputSubset {
  i64 count = 0;
  std::vector<i64> pos;
};

class Backend {
 public:
  Backend(FixedPoint fxp, const FunctionPolicy& policy) : fxp_(fxp), policy_(policy) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual Setting setting() const = 0;
  virtual Role role() const = 0;  // cleartext: client
  virtual bool phantom() const = 0;
  // Whether this run is real (values or dealt material): false in phantom runs. The dealer holds no
  // values (phantom() is true) but deals real material in a real run.
  virtual bool real_run() const { return !phantom(); }
  virtual Ledger& ledger() = 0;
  // The party's raw channel (null for cleartext): for tests and protocol extensions.
  virtual Comm* comm() { return nullptr; }
  const FixedPoint& fxp() const { return fxp_; }
  int frac_bits() const { return fxp_.frac_bits; }
  // The method each function uses (function_policy.h); the same on every party of a session.
  const FunctionPolicy& policy() const { return policy_; }

  // ---- sharing ----
  // `owner` secret-shares `value`. Only the owner reads value's data; every other party passes a
  // tensor of the same shape (RingTensor::phantom(shape) is fine).
  virtual Shared input(Role owner, const RingTensor& value) = 0;
  // Opens x to `to` only; other parties get a phantom of x's shape.
  virtual RingTensor reveal(const Shared& x, Role to) = 0;
  virtual RingTensor reveal_all(const Shared& x) = 0;
  // A sharing of a public tensor (no communication).
  Shared constant(const RingTensor& value);

  // ---- local linear ops (free) ----
  Shared add(const Shared& a, const Shared& b);
  Shared sub(const Shared& a, const Shared& b);
  Shared neg(const Shared& a);
  Shared add_public(const Shared& a, const RingTensor& c);  // element-wise, same shape
  Shared add_scalar(const Shared& a, u64 c);                 // ring constant to every element
  Shared mul_public(const Shared& a, const RingTensor& c);  // element-wise, no truncation
  Shared scale(const Shared& a, u64 k);                      // by a ring constant, no truncation
  Shared matmul_public(const Shared& x, const RingTensor& w);       // x (...,k) * w (k,n)
  Shared matmul_public_left(const RingTensor& w, const Shared& x);  // w (m,k) * x (k,n)
  // Applies a ring-linear data movement (reshape, slice, permute, sum, ...) to every component.
  Shared map(const Shared& a, const std::function<RingTensor(const RingTensor&)>& f);
  Shared concat(const std::vector<Shared>& parts, int axis);

  // ---- interactive primitives ----
  virtual Shared mul(const Shared& a, const Shared& b) = 0;     // element-wise
  virtual Shared matmul(const Shared& a, const Shared& b) = 0;  // shapes as protocols/ring/ring.h matmul()
  // Signed division by 2^bits: floor(x / 2^bits) or one more (|error| <= 1 unit in the last place).
  // Requires |x| < 2^62.
  virtual Shared trunc(const Shared& x, int bits) = 0;
  // Integer sharing of [x < 0] (x read as two's complement). With bits < 64 the caller promises
  // |x| < 2^(bits-1): only the low `bits` bits enter the comparison (smaller circuits and keys).
  // low > 0 asks only for x's bits [low, bits): the answer is exact for |x| >= 2^low and either
  // value for |x| < 2^low (a comparison that need not resolve x's last bits, e.g. a softmax max,
  // costs the bits it needs); settings may still answer exactly. 0 <= low <= bits - 3, and then
  // |x| < 2^(bits-2) (cmp_bits' promise: the carry of the dropped bits must not reach the sign).
  virtual Shared ltz(const Shared& x, int bits = 64, int low = 0) = 0;

  // Prepares a secret weight (k,n) for repeated use as matmul's right operand. Called once at
  // set-up: in 2pc-dealer the masked weight W - B is opened then, and every later matmul with it
  // opens only its left operand ((m*k)*8 B per party instead of (m*k + k*n)*8 B). Other settings
  // return w unchanged. Costs are booked under "prepare_weight".
  virtual Shared prepare_weight(const Shared& w) { return w; }

  // ---- a shared matrix that grows by rows (the KV cache) ----
  // Appends rows (.., T, n) to cache (.., S, n) along axis -2 (an empty Shared{}: no rows yet). 2pc-dealer
  // keeps the result prepared like a weight (prepare_weight): each row is masked once and its E = row - B
  // opened once, in the opening of the next matmul_cache, so a decode step opens its new rows and its
  // left operands but never the cached rows again. Other settings concatenate (3pc's products cost
  // only their output: nothing to gain). Free here; the opening is booked by matmul_cache.
  virtual Shared append_rows(const Shared& cache, const Shared& rows);
  // x (.., m, n) · cacheᵀ (transposed: attention scores) or x (.., m, S) · cache (attention context),
  // no truncation; cache must come from append_rows. Updates cache: rows appended since the last
  // product are opened now (2pc-dealer; one round, bytes as matmul with the new rows in place of the
  // whole cache). Booked under "matmul" (matmul_cache_trunc: as matmul_trunc).
  virtual Shared matmul_cache(const Shared& x, Shared& cache, bool transposed);
  virtual Shared matmul_cache_trunc(const Shared& x, Shared& cache, bool transposed);
  // matmul_cache_trunc where only the outputs in `kept` are read (a causal attention's scores): those
  // are truncated, every other output is zero. A setting that pays per output (3pc's re-sharing and
  // truncation, 2pc-dealer's truncation) pays for the kept ones only. Default: matmul_cache, then
  // trunc on the kept outputs.
  virtual Shared matmul_cache_trunc_kept(const Shared& x, Shared& cache, bool transposed, const OutputSubset& kept);
  // matmul_cache_trunc for an x that is zero outside `nonzero` (positions of x, flattened: a causal
  // prefill's probabilities, key j <= query t; the caller promises it). 2pc-dealer deals x's mask as
  // zero there too, so only the listed entries of x - A are opened. Default: matmul_cache_trunc.
  virtual Shared matmul_cache_trunc_sparse(const Shared& x, Shared& cache, bool transposed, const OutputSubset& nonzero);

  // ---- values private to one role ----
  // Set-up of a private weight (k,n): costs as input + prepare_weight in 3pc and 2pc-dealer.
  virtual PrivateWeight setup_private_weight(const Private& w);
  // Shared x (..., k) times a private weight (k, n), no truncation ("sv": shared by private, in
  // SPU's kernel naming). 3pc and 2pc-dealer: matmul with the prepared sharing.
  virtual Shared mmul_sv(const Shared& x, const PrivateWeight& w);
  // mmul_sv truncated by `bits`; 3pc truncates the product's 3-of-3 sharing directly.
  virtual Shared mmul_sv_trunc(const Shared& x, const PrivateWeight& w, int bits) { return trunc(mmul_sv(x, w), bits); }
  // Independent products x_i · W_i in one round where the setting can (as matmul_many).
  virtual std::vector<Shared> mmul_sv_many(const std::vector<std::pair<Shared, const PrivateWeight*>>& products);
  // One x read by several private weights (a linear's Q, K and V; gate and up): x · W_i in one
  // round. A setting that masks x to open it (2pc-dealer) masks and opens it once for all of them.
  virtual std::vector<Shared> mmul_sv_x(const Shared& x, const std::vector<const PrivateWeight*>& weights);

  // End of the program: a backend whose material comes from a stream checks it was used up (key
  // files: no record left). Called once by the party after its program returns.
  virtual void finish() {}

  // ---- derived (override where a setting does better) ----
  virtual Shared square(const Shared& a) { return mul(a, a); }    // element-wise, no truncation
  // Row sums of squares: v (R, C) -> (R, 1), sum_c v^2, no truncation (a norm's variance). Default:
  // one batched inner product per row (3pc pays per output); 2pc-dealer squares (one opening of v,
  // where the product would open v twice) and sums.
  virtual Shared sum_squares(const Shared& v);
  // (x >> bits)^2 (trunc's rounding), no truncation of the square: a squaring after a truncation.
  // Default: trunc, then square; 2pc-dealer opens once for both (trunc_gate.h).
  virtual Shared trunc_square(const Shared& x, int bits) { return square(trunc(x, bits)); }
  virtual Shared mul_trunc(const Shared& a, const Shared& b);     // fixed-point product
  // a * b truncated by `bits` (mul_trunc: bits = frac_bits()); 3pc truncates the product's 3-of-3
  // sharing directly, one re-sharing less.
  virtual Shared mul_trunc_bits(const Shared& a, const Shared& b, int bits) { return trunc(mul(a, b), bits); }
  // Independent products a_i * b_i (shapes as matmul) in one round where the setting can (3pc:
  // one reshare; 2pc-dealer: one opening), bytes as the separate calls. Default: one call each.
  virtual std::vector<Shared> matmul_many(const std::vector<std::pair<Shared, Shared>>& pairs);
  virtual Shared matmul_trunc(const Shared& a, const Shared& b);  // fixed-point matmul
  // x times a per-row value y, no truncation (a softmax's or norm's normalisation): x's n elements
  // (flattened) are rows of lengths[r] consecutive elements, y holds one value per row (R of them,
  // any shape). Result shaped as x. Default: y repeated, then mul; 2pc-dealer opens y once per row.
  virtual Shared mul_rows(const Shared& x, const Shared& y, const RowLengths& lengths);
  // mul_rows truncated by `bits`; 3pc truncates the product's 3-of-3 sharing directly.
  virtual Shared mul_rows_trunc(const Shared& x, const Shared& y, const RowLengths& lengths, int bits) {
    return trunc(mul_rows(x, y, lengths), bits);
  }
  // x (..., C) times a per-row y (..., 1) repeated over the last axis: mul_rows with rows of C.
  Shared mul_cols(const Shared& x, const Shared& y);
  Shared mul_cols_trunc(const Shared& x, const Shared& y, int bits);
  // x's negative part [x < 0]·x = min(x, 0), element-wise, x on `bits` bits as ltz (relu(x) =
  // x - negative_part(x); max(a, b) = a - negative_part(a - b)). With low > 0 the comparison is
  // ltz's (exact for |x| >= 2^low): the result is x or 0 where |x| < 2^low, exactly one of them.
  // Default: an ltz and a product; 2pc-dealer: a comparison with one-byte value words, then a
  // select on one opened bit (ltz_gate.h).
  virtual Shared negative_part(const Shared& x, int bits, int low = 0);
  // bit (integer 0/1) ? a : b, element-wise; bit may broadcast over a's last axis if shaped (...,1).
  virtual Shared select(const Shared& bit, const Shared& a, const Shared& b);
  // Piecewise-quadratic public function (protocols/fss/spline.h), element-wise: x at t.in_frac bits with
  // |x| <= t.in_bound, result at t.out_frac bits: the truncation of spline_eval_ring(t, x, carry)
  // for carry 0 or 1 (same file), exact up to one unit. Generic form (cleartext, 3pc): one trunc by
  // cmp_shift, one ltz call on m-1 values per element ([x >= knot_i]), coefficients selected
  // locally, one square, one mul call, one trunc.
  // 2pc-dealer overrides it with an FSS spline gate (protocols/fss/spline_gate.h).
  virtual Shared spline(const Shared& x, const SplineTable& t);
  // Integer 0/1 sharings of [x < K_i] for public K_i, shaped (K, n) for x of n elements, on `bits`
  // bits as ltz: one ltz over the K differences by default; 2pc compares all K at once (one leaf
  // OT per digit serves every knot: ot_gates.h ltz_many).
  virtual Shared ltz_knots(const Shared& x, const std::vector<u64>& knots, int bits);

 protected:
  // Adds public c to the component(s) that stand for "share 0", so the sum grows by c exactly once.
  virtual void add_public_inplace(Shared& a, const RingTensor& c) = 0;
  void require_same(const Shared& a, const Shared& b, const char* what) const;

 private:
  FixedPoint fxp_;
  FunctionPolicy policy_;
};

// A fixed-point or integer public tensor of the right shape for this party's mode: real parties
// encode values, a phantom party (or the dealer) gets the shape only.
// Multiply-accumulates of a (...,m,k) x (...,k,n) product.
u64 matmul_macs(const Shape& a, const Shape& b);

// sum_squares by one square and a row sum (2pc-dealer and its dealer).
Shared sum_squares_by_square(Backend& be, const Shared& v);

// Throws std::invalid_argument unless 3 <= bits <= 64 and 0 <= low <= bits - 3.
void check_ltz_bits(int bits, int low = 0);

// Throws std::invalid_argument unless x has sum(lengths) elements, y one per row and every row at
// least one element (Backend::mul_rows).
void require_rows(const Shared& x, const Shared& y, const RowLengths& lengths);
// Throws std::invalid_argument unless w was set up (Backend::setup_private_weight).
void require_weight_set_up(const PrivateWeight& w);

// Throws std::invalid_argument unless w is a (k,n) matrix (a weight for prepare_weight).
void require_weight_matrix(const Shared& w);

RingTensor public_tensor(const Backend& be, const std::vector<double>& values, const Shape& shape);

struct BackendOptions {
  FixedPoint fxp;
  bool phantom = false;
  // The functions' methods; empty: default_policy(setting). Every party of a session must agree
  // (the dealer runs the same program).
  std::optional<FunctionPolicy> policy;
  FunctionPolicy policy_for(Setting s) const { return policy ? *policy : default_policy(s); }
  // 2pc-dealer: where the gates' material comes from (the dealer's stream, key files, size only).
  CorrelationOptions correlations;
};

// Factory: the backend a party of `setting` runs (the 2pc-dealer dealer gets DealerBackend over
// its live stream; key files are written by deal_key_files, dealer_backend.h, in a run of its own).
// comm may be null only for cleartext.
std::unique_ptr<Backend> make_backend(Setting setting, Role role, Comm* comm, const BackendOptions& opt);

// The parties of an online run: roles_of(setting), less the dealer when the two-party engine reads
// key files or runs size-only.
std::vector<Role> session_roles(Setting setting, const BackendOptions& opt);

}  // namespace marill
