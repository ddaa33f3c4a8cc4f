// The 2pc backend (protocols/mpc/backend_2pc.h): its primitives' bytes against the OT gates' and HE
// plans' closed forms, a private weight that stays at the server, and the set-up in the offline
// phase. Correctness against cleartext runs in test_backends.cpp with every other setting.
#include "tests/core/harness.h"

#include "protocols/he/he_matmul.h"
#include "protocols/mpc/backend_2pc.h"
#include "protocols/nonlinear/ot_gates.h"
#include "protocols/ot/ot_extension.h"

using namespace marill;
using namespace marill::test;

namespace {

const int kK = CorrelationOptions{}.ot_softspoken_k;

SessionResult run_op(const Shape& a, const Shape& b, const BinaryOp& op, RingTensor* got = nullptr) {
  SessionResult res;
  RingTensor r = run_binary(Setting::two_pc, random_ring(a), random_ring(b), op, &res);
  if (got) *got = r;
  return res;
}

u64 gilboa_bytes_each_way(i64 n) { return iknp_receiver_bytes(64 * n, kK) + packed_bytes(2080 * static_cast<u64>(n)); }

}  // namespace

TEST_CASE("2pc: mul, square, trunc, ltz and a product by a bit cost their closed forms", "[2pc][ledger]") {
  const i64 n = 120;
  SessionResult mul = run_op({n}, {n}, [](Backend& be, const Shared& x, const Shared& y) { return be.mul(x, y); });
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(mul, r, "mul") == gilboa_bytes_each_way(n));
  CHECK(op_rounds(mul, "mul") <= 2);
  // The base OTs of both directions, once, offline.
  for (Role r : {Role::client, Role::server})
    CHECK(mul.party(r).ledger.total(Phase::offline).bytes_sent == iknp_setup_sender_bytes() + iknp_setup_receiver_bytes(kK));

  SessionResult sq = run_op({n}, {n}, [](Backend& be, const Shared& x, const Shared&) { return be.square(x); });
  CHECK(op_bytes(sq, Role::client, "square") == packed_bytes(2080 * static_cast<u64>(n)));
  CHECK(op_bytes(sq, Role::server, "square") == iknp_receiver_bytes(64 * n, kK));

  SessionResult tr = run_op({n}, {n}, [](Backend& be, const Shared& x, const Shared&) { return be.trunc(x, 16); });
  CHECK(op_bytes(tr, Role::client, "trunc") == trunc_bytes(n, 16, kK).client);
  CHECK(op_bytes(tr, Role::server, "trunc") == trunc_bytes(n, 16, kK).server);

  SessionResult lt = run_op({n}, {n}, [](Backend& be, const Shared& x, const Shared&) { return be.ltz(x, 40); });
  CHECK(op_bytes(lt, Role::client, "ltz") == ltz_bytes(n, 40, kK).client);
  CHECK(op_bytes(lt, Role::server, "ltz") == ltz_bytes(n, 40, kK).server);

  // relu's product: the ltz output times x is a multiplexer, not a Gilboa product
  SessionResult bm = run_op({n}, {n}, [](Backend& be, const Shared& x, const Shared&) { return be.mul(be.ltz(x), x); });
  CHECK(op_bytes(bm, Role::client, "mul") == mux_bytes(n, kK).client);
  CHECK(op_bytes(bm, Role::server, "mul") == mux_bytes(n, kK).server);
}

TEST_CASE("2pc: x times the server's private weight is one HE product, the weight never leaves the server", "[2pc][he]") {
  const i64 m = 16, k = 64, n = 24;
  const FixedPoint fxp{};
  const RingTensor x = random_fixed({m, k}, -4, 4, fxp), w = random_fixed({k, n}, -1, 1, fxp);
  SessionConfig cfg;
  cfg.setting = Setting::two_pc;
  RingTensor got;
  SessionResult res = run_session(cfg, [&](Backend& be) {
    const bool server = be.role() == Role::server, client = be.role() == Role::client;
    const PrivateWeight W = be.setup_private_weight(Private{Role::server, server ? w : RingTensor::phantom(w.shape()), be.frac_bits()});
    const Shared X = be.input(Role::client, client ? x : RingTensor::phantom(x.shape()));
    const RingTensor v = be.reveal(be.mmul_sv(X, W), Role::client);
    if (client) got = v;
  });
  CHECK(max_ring_diff(got, matmul(x, w)) == 0);
  const int weight_bits = fxp.frac_bits + TwoPcBackend::kWeightIntegerBits;
  const HeMatmulPlan plan = plan_he_matmul(*he_context(HeParams::standard()), m, k, n, weight_bits, HeMatmulOptions{}.max_pack_log, 1,
                                              HeMatmulOptions{}.key_switch_bytes);
  CHECK(op_bytes(res, Role::client, "matmul") == plan.upload_bytes);
  CHECK(op_bytes(res, Role::server, "matmul") == plan.response_bytes);
  CHECK(op_rounds(res, "matmul") <= 2);  // upload out, response back
  // The server sends the HE response and the revealed share, nothing of size k·n.
  CHECK(res.party(Role::server).ledger.total(Phase::online).bytes_sent == plan.response_bytes + static_cast<u64>(m * n * 8));
  CHECK(res.party(Role::server).ledger.total(Phase::offline).bytes_sent == 0);  // it only receives the client's keys
  // the keys go out on first use, inside the first product
  CHECK(op_bytes(res, Role::client, "matmul/he_setup", Phase::offline) == he_setup_bytes(*he_context(HeParams::standard()), HeMatmulOptions{}.max_pack_log));
}

TEST_CASE("2pc: a private weight of the client is refused", "[2pc][bad_input]") {
  SessionConfig cfg;
  cfg.setting = Setting::two_pc;
  CHECK_THROWS_WITH(run_session(cfg,
                                [&](Backend& be) {
                                  (void)be.setup_private_weight(Private{Role::client, RingTensor::phantom({4, 4}), be.frac_bits()});
                                }),
                    Catch::Contains("belongs to the server"));
}
