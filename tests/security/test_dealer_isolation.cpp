// The dealer receives nothing: its material must not depend on the inputs, and it is not trusted
// with them (DESIGN.md: "never sees inputs"). A client or server frame to the dealer would leave
// every output correct (the dealer never reads it), so only the recorded frames show it.
#include "tests/security/security_harness.h"

#include "protocols/functions/functions.h"

using namespace marill;
using namespace marill::sectest;

namespace {

// Every primitive the online parties run, and functions on top (spline gates or polynomials).
void every_primitive(Backend& be, FrameLog& log) {
  const FixedPoint& fxp = be.fxp();
  const RingTensor a = seeded_fixed({4, 8}, -2, 2, 11, fxp), w = seeded_fixed({8, 6}, -1, 1, 12, fxp);
  log.mark(be.role(), "input");
  Shared x = be.input(Role::client, own(be, Role::client, a));
  Shared W = be.input(Role::server, own(be, Role::server, w));
  log.mark(be.role(), "arithmetic");
  Shared p = be.mul_trunc(x, x);
  Shared q = be.trunc(be.square(x), fxp.frac_bits);
  Shared m = be.matmul_trunc(x, W);
  Shared Wp = be.prepare_weight(W);
  Shared mp = be.matmul(x, Wp);
  auto many = be.matmul_many({{x, Wp}, {x, W}});
  log.mark(be.role(), "comparison");
  Shared s = be.select(be.ltz(be.sub(p, q)), p, q);
  Shared l = be.ltz(x, 40);
  log.mark(be.role(), "functions");
  Shared act = silu(be, m);
  Shared sm = softmax(be, x);
  Shared e = exp_neg(be, be.neg(be.mul_trunc(x, x)));
  log.mark(be.role(), "reveal");
  be.reveal(act, Role::client);
  be.reveal(sm, Role::server);
  be.reveal_all(be.add(s, be.add(e, be.map(l, [&](const RingTensor& t) { return t; }))));
  be.reveal_all(be.add(mp, be.add(many[0], many[1])));
}

void check_dealer_received_nothing(const Recorded& rec) {
  const FrameLog& log = *rec.log;
  CHECK(!log.frames(Role::dealer, FrameDirection::sent).empty());  // the dealer did take part
  for (Role r : {Role::client, Role::server}) {
    INFO(role_name(r));
    CHECK(!log.frames(r, FrameDirection::sent).empty());
    for (const auto& f : log.frames(r, FrameDirection::sent, Role::dealer)) {
      FAIL_CHECK(role_name(r) << " sent the dealer " << f.header.payload_bytes << " bytes during '" << f.label << "'");
    }
    CHECK(rec.result.party(r).ledger.total(Phase::online).bytes_sent + rec.result.party(r).ledger.total(Phase::offline).bytes_sent > 0);
  }
  for (const auto& f : log.frames(Role::dealer, FrameDirection::received)) {
    FAIL_CHECK("the dealer received " << f.header.payload_bytes << " bytes from "
                                      << (f.peer ? role_name(*f.peer) : "outside the session") << " during '" << f.label << "'");
  }
}

}  // namespace

TEST_CASE("no frame reaches the dealer in a 2pc-dealer session", "[security][dealer]") {
  for (bool fss : {true, false}) {
    for (bool phantom : {false, true}) {
      INFO("fss gates " << fss << ", phantom " << phantom);
      check_dealer_received_nothing(run_recorded(Setting::two_pc_dealer, every_primitive, phantom, fss));
    }
  }
}
