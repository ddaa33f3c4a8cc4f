// The runner and the party seam: points build each party's program from its own inputs, parties
// report through serialized reports, a party over another transport reports the same costs, and a
// failing party tells its peers its role and error class, never its error text.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "actors/party_comm.h"
#include "models/secure/block_weights.h"
#include "runner/generation.h"
#include "runner/rows.h"

using namespace marill;

namespace {

Point small_block(Setting st, i64 lora, Mode mode) {
  Point p;
  p.setting = st;
  p.model.d_model = 32;
  p.model.n_heads = 4;
  p.model.ffn_dim = 64;
  p.b = 8;
  p.marill.lora = lora;
  p.mode = mode;
  return p;
}

// Every party's transport in one process without CAF: a mailbox per role (what a ZeroMQ launcher
// replaces with sockets, one party per process).
struct Mailboxes {
  std::mutex mu;
  std::condition_variable cv;
  std::array<std::deque<Incoming>, kMaxRoles> box;
};

class MailboxTransport final : public Transport {
 public:
  MailboxTransport(Mailboxes& m, Role me) : m_(m), me_(me) {}
  void send(Role to, std::vector<std::uint8_t> bytes) override {
    {
      std::lock_guard<std::mutex> lock(m_.mu);
      m_.box[static_cast<size_t>(role_index(to))].push_back(Incoming{std::move(bytes), me_});
    }
    m_.cv.notify_all();
  }
  std::optional<Incoming> receive(std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(m_.mu);
    auto& q = m_.box[static_cast<size_t>(role_index(me_))];
    if (!m_.cv.wait_for(lock, timeout, [&] { return !q.empty(); })) return std::nullopt;
    Incoming in = std::move(q.front());
    q.pop_front();
    return in;
  }

 private:
  Mailboxes& m_;
  Role me_;
};

void check_same_costs(const PartyReport& a, const PartyReport& b) {
  for (Phase ph : {Phase::offline, Phase::online}) {
    INFO(role_name(a.role) << " " << phase_name(ph));
    CHECK(a.ledger.total(ph).bytes_sent == b.ledger.total(ph).bytes_sent);
    CHECK(a.ledger.total(ph).messages == b.ledger.total(ph).messages);
    CHECK(a.ledger.total(ph).rounds == b.ledger.total(ph).rounds);
    REQUIRE(a.ledger.by_op(ph).size() == b.ledger.by_op(ph).size());
    for (const auto& [path, c] : a.ledger.by_op(ph)) {
      INFO(path);
      REQUIRE(b.ledger.by_op(ph).count(path) == 1);
      CHECK(c.bytes_sent == b.ledger.by_op(ph).at(path).bytes_sent);
      CHECK(c.rounds == b.ledger.by_op(ph).at(path).rounds);
    }
  }
}

}  // namespace

TEST_CASE("a party report survives Cereal binary and JSON unchanged", "[runner]") {
  PointResult r = run_point(small_block(Setting::two_pc_dealer, 0, Mode::phantom));
  for (const PartyReport& rep : r.session.parties) {
    INFO(role_name(rep.role));
    REQUIRE(rep.ran);
    CHECK(rep.ledger.total(Phase::online).bytes_sent + rep.ledger.total(Phase::offline).bytes_sent > 0);
    const PartyReport bin = report_from_binary(report_to_binary(rep));
    const PartyReport json = report_from_json(report_to_json(rep));
    for (const PartyReport* back : {&bin, &json}) {
      CHECK(back->role == rep.role);
      CHECK(back->ran);
      check_same_costs(rep, *back);
      for (Phase ph : {Phase::offline, Phase::online})
        for (const auto& [path, c] : rep.ledger.by_op(ph)) {
          const OpCost& d = back->ledger.by_op(ph).at(path);
          CHECK(std::tie(c.framing_bytes, c.messages, c.calls, c.secure_macs, c.hops_begin, c.hops_end) ==
                std::tie(d.framing_bytes, d.messages, d.calls, d.secure_macs, d.hops_begin, d.hops_end));
          CHECK(c.sim_s == Approx(d.sim_s));
          CHECK(c.cpu_s == Approx(d.cpu_s));
        }
    }
  }
  CHECK_THROWS_AS(report_from_binary({1, 2, 3}), ProtocolError);
  CHECK_THROWS_AS(report_from_json("{\"report\": 5}"), ProtocolError);
}

TEST_CASE("runner points: real and phantom runs of a block cost the same", "[runner]") {
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer})
    for (i64 lora : {0, 4}) {
      INFO(setting_name(st) << " lora " << lora);
      const PointResult real = run_point(small_block(st, lora, Mode::real));
      const PointResult phantom = run_point(small_block(st, lora, Mode::phantom));
      REQUIRE(real.session.parties.size() == phantom.session.parties.size());
      for (size_t i = 0; i < real.session.parties.size(); ++i) check_same_costs(real.session.parties[i], phantom.session.parties[i]);
      const auto rows = layer_rows(real);
      CHECK(rows.size() == layer_rows(phantom).size());
      REQUIRE(rows.size() > 2);
      CHECK(rows[0].kind == "(total)");
      CHECK(rows[0].bytes_sent > 0);
      CHECK(rows[1].kind == "(offline)");
      CHECK((rows[1].bytes_sent > 0) == (st == Setting::two_pc_dealer));
    }
}

TEST_CASE("runner points: a cleartext point runs as its one party holding every input", "[runner]") {
  const PointResult r = run_point(small_block(Setting::cleartext, 4, Mode::real));
  REQUIRE(r.session.parties.size() == 1);
  CHECK(r.session.parties[0].ran);
  CHECK(r.session.parties[0].ledger.by_op(Phase::online).count("forward") == 1);
}

TEST_CASE("runner points: each party builds its block from its own inputs only", "[runner]") {
  for (i64 lora : {0, 4}) {
    const Point p = small_block(Setting::two_pc_dealer, lora, Mode::real);
    const FloatBlock server = party_block(p, Role::server);
    const FloatBlock reference = random_block(p.block_shape(), lora, p.weight_seed);
    CHECK(server.wq.w == reference.wq.w);
    CHECK(server.w_down.lora_a == reference.w_down.lora_a);
    for (Role r : {Role::client, Role::dealer, Role::helper}) {
      INFO(role_name(r) << " lora " << lora);
      const FloatBlock b = party_block(p, r);
      CHECK(b.attn_norm.empty() == (lora == 0));  // with LoRA the norms are the public base's
      CHECK(b.norms_public == (lora > 0));
      for (const FloatLinear* f : {&b.wq, &b.wk, &b.wv, &b.wo, &b.w_gate, &b.w_up, &b.w_down}) {
        CHECK(f->lora_a.empty());
        CHECK(f->lora_b.empty());
        CHECK(f->bias.empty());
        CHECK(f->w.empty() == (lora == 0));  // with LoRA the base weight is public
      }
      CHECK(b.wq.in == server.wq.in);
      CHECK(b.w_up.out == server.w_up.out);
      CHECK(b.wq.lora_rank == server.wq.lora_rank);
    }
    Point ph = p;
    ph.mode = Mode::phantom;
    CHECK(party_block(ph, Role::server).wq.w.empty());  // phantom: shapes only, on every party
  }
}

TEST_CASE("runner: one party per transport, outside CAF, reports what the in-process launcher does", "[runner]") {
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    const Point p = small_block(st, 0, Mode::phantom);
    const PointResult in_process = run_point(p);
    Mailboxes boxes;
    const auto roles = roles_of(st);
    std::vector<PartyReport> reports(roles.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < roles.size(); ++i)
      threads.emplace_back([&, i] {
        MailboxTransport t(boxes, roles[i]);
        reports[i] = report_from_binary(report_to_binary(run_party(p, roles[i], t)));  // as shipped between processes
      });
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < roles.size(); ++i) {
      CHECK(reports[i].error == "");
      REQUIRE(reports[i].ran);
      check_same_costs(reports[i], in_process.session.parties[i]);
    }
  }
}

TEST_CASE("runner points: bad fields are named", "[runner][errors]") {
  Point p = small_block(Setting::three_pc, 0, Mode::phantom);
  p.b = 0;
  CHECK_THROWS_WITH(run_point(p), Catch::Contains("b 0"));
  p = small_block(Setting::three_pc, 0, Mode::phantom);
  p.marill.merge = 3;  // 4 heads
  CHECK_THROWS_AS(run_point(p), std::invalid_argument);
  p = small_block(Setting::three_pc, -1, Mode::phantom);
  CHECK_THROWS_WITH(run_point(p), Catch::Contains("LoRA rank -1"));
  p.workload = Workload::primitive;
  p.primitive = {"divide", {4}, {4}};
  CHECK_THROWS_WITH(run_point(p), Catch::Contains("unknown primitive 'divide'"));
  p.primitive = {"matmul", {4, 3}, {4, 3}};
  CHECK_THROWS_WITH(run_point(p), Catch::Contains("matmul needs shapes"));
  CHECK_THROWS_WITH(parse_stage("sideways"), Catch::Contains("unknown stage 'sideways'"));
}

TEST_CASE("an abort tells peers the failing role and error class, never the error text", "[errors]") {
  // A server weight that overflows fixed point: the server's error names the value; its peers
  // must learn only "server, bad_input".
  const double overflowing = 351843720888320.0;  // 1.25 x 2^48, exact in float; x 2^16 > 2^63
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    SessionConfig cfg;
    cfg.setting = st;
    cfg.recv_timeout = std::chrono::milliseconds(60000);  // the abort, not a timeout, must end it
    BlockShape shape;
    shape.d_model = 16;
    shape.n_heads = 2;
    shape.ffn_dim = 32;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      run_parties(cfg, [&](Role r) -> Program {
        FloatBlock w = random_block(shape, 0);
        if (r == Role::server) w.wv.w[3] = static_cast<float>(overflowing);
        return [w](Backend& be) {  // the server fails in set-up; the others wait for it in the forward pass
          SecureBlock blk = setup_block(be, w);
          KvCache cache;
          const bool mine = be.role() == Role::client;
          block_forward(be, blk, be.input(Role::client, mine ? be.fxp().encode(std::vector<double>(32, 0.5), {2, 16}) : RingTensor::phantom({2, 16})), cache);
        };
      });
      FAIL("the session should fail");
    } catch (const SessionError& e) {
      const PartyReport* server = e.party(Role::server);
      REQUIRE(server != nullptr);
      CHECK(server->error_class == ErrorClass::bad_input);
      CHECK_THAT(server->error, Catch::Contains("3518437208"));  // kept locally
      for (Role r : roles_of(st)) {
        if (r == Role::server) continue;
        INFO(role_name(r));
        const PartyReport* peer = e.party(r);
        REQUIRE(peer != nullptr);
        if (r == Role::dealer && peer->ran) continue;  // the dealer receives nothing: it may finish first
        CHECK(peer->error_class == ErrorClass::peer_aborted);
        CHECK_THAT(peer->error, Catch::Contains("peer server aborted (bad_input)"));
        CHECK_THAT(peer->error, !Catch::Contains("3518437208") && !Catch::Contains("overflow") && !Catch::Contains("fixed point"));
      }
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  }
}

TEST_CASE("abort frames carry two bytes, the failed role and its class, anything else is refused", "[errors]") {
  auto abort_from_server = [](std::vector<std::uint8_t> payload) {
    Mailboxes boxes;
    MailboxTransport server(boxes, Role::server), client(boxes, Role::client);
    FrameHeader h;
    h.kind = FrameHeader::abort;
    h.from = static_cast<std::uint8_t>(Role::server);
    h.to = static_cast<std::uint8_t>(Role::client);
    h.payload_bytes = payload.size();
    server.send(Role::client, encode_frame(h, payload.data(), payload.size()));
    PartyComm c(Role::client, {Role::server, Role::helper}, client, network_preset("lan"), false, std::chrono::milliseconds(200));
    c.recv_bytes(Role::server, 8);
  };
  try {
    abort_from_server({static_cast<std::uint8_t>(Role::helper), static_cast<std::uint8_t>(ErrorClass::timeout)});
    FAIL("an abort frame must end the receive");
  } catch (const PeerAborted& e) {
    CHECK(e.sender == Role::server);
    CHECK(e.failed == Role::helper);
    CHECK(e.failed_class == ErrorClass::timeout);
    CHECK_THAT(std::string(e.what()), Catch::Contains("peer helper aborted (timeout), relayed by server"));
  }
  for (std::vector<std::uint8_t> bad : {std::vector<std::uint8_t>{1}, std::vector<std::uint8_t>{1, 2, 3},
                                        std::vector<std::uint8_t>{9, 1}, std::vector<std::uint8_t>{1, 77},
                                        std::vector<std::uint8_t>{1, static_cast<std::uint8_t>(ErrorClass::peer_aborted)}}) {
    INFO(bad.size() << " bytes");
    CHECK_THROWS_WITH(abort_from_server(bad), Catch::Contains("malformed abort frame from server"));
  }
}

// Inputs loaded once serve every setting (marill generate --settings 3pc,2pc-dealer loads them once):
// each run uses its own setting's function methods, not the loading point's.
TEST_CASE("generation inputs loaded for one setting run another with that setting's methods", "[runner][generate]") {
  GenerationPoint p;
  p.mode = Mode::phantom;
  p.source.kind = ModelSource::preset;
  p.source.path = "gpt2";
  p.source.freeze = 0.25;
  p.prompt.assign(16, 1);
  p.new_tokens = 1;
  p.setting = Setting::two_pc_dealer;
  const GenerationInputs loaded_for_dealer = load_generation(p);
  p.setting = Setting::three_pc;
  const GenerationInputs loaded_for_3pc = load_generation(p);
  CHECK(policy_str(generation_policy(p, loaded_for_dealer)) == policy_str(generation_policy(p, loaded_for_3pc)));
  CHECK(policy_str(loaded_for_dealer.policy) != policy_str(loaded_for_3pc.policy));  // the two defaults differ
  const StepCost a = step_cost(run_generation(p, loaded_for_dealer).session, "prefill");
  const StepCost b = step_cost(run_generation(p, loaded_for_3pc).session, "prefill");
  CHECK(a.online_bytes == b.online_bytes);
  CHECK(a.rounds == b.rounds);
}
