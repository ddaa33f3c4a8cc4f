// Oblivious transfer (protocols/ot/): base OTs over ristretto255 against RFC 9496's vectors, IKNP
// random / correlated / chosen / 1-of-N OT, Gilboa triples, exact byte counts per phase, phantom =
// real, fresh randomness, the receiver's columns independent of its choices, and bad input.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "actors/memory_transport.h"
#include "tests/core/comm_pair_checks.h"
#include "tests/core/recording_comm.h"
#include "protocols/ot/base_ot.h"
#include "protocols/ot/bit_transpose.h"
#include "protocols/ot/ot_extension.h"
#include "protocols/ot/ot_triples.h"
#include "protocols/ring/prg.h"

using namespace marill;

namespace {

constexpr int kOff = static_cast<int>(Phase::offline);
constexpr int kOn = static_cast<int>(Phase::online);

std::vector<std::uint8_t> hex(const std::string& s) {
  std::vector<std::uint8_t> out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(std::stoi(s.substr(2 * i, 2), nullptr, 16));
  return out;
}

std::vector<std::uint8_t> random_choices(std::size_t n, int modulus = 2) {
  Prg prg = Prg::from_os();
  std::vector<std::uint8_t> c(n);
  prg.fill_bytes(c.data(), n);
  for (auto& x : c) x = static_cast<std::uint8_t>(x % modulus);
  return c;
}

std::vector<u64> random_values(std::size_t n, int bits) {
  Prg prg = Prg::from_os();
  std::vector<u64> v(n);
  prg.fill(v.data(), n);
  for (auto& x : v) x &= low_bits_mask(bits);
  return v;
}

using test::RecordingComm;
using test::check_phantom_equals_real;

// The extension's sender is the client, its receiver the server.
CommPairResult run_ot(const std::function<void(Comm&, OtExtSender&)>& sender_program,
                      const std::function<void(Comm&, OtExtReceiver&)>& receiver_program, bool phantom = false, int softspoken_k = 1) {
  return run_comm_pair(
      Role::client,
      [&](Comm& c) {
        OtExtSender s(softspoken_k);
        s.setup(c, Role::server);
        sender_program(c, s);
      },
      Role::server,
      [&](Comm& c) {
        OtExtReceiver r(softspoken_k);
        r.setup(c, Role::client);
        receiver_program(c, r);
      },
      network_preset("lan"), phantom);
}

void check_bytes(const CommPairResult& res, u64 sender_online, u64 receiver_online, int softspoken_k = 1) {
  CHECK(res.a.total(Phase::offline).bytes_sent == iknp_setup_sender_bytes());
  CHECK(res.b.total(Phase::offline).bytes_sent == iknp_setup_receiver_bytes(softspoken_k));
  CHECK(res.a.total(Phase::online).bytes_sent == sender_online);
  CHECK(res.b.total(Phase::online).bytes_sent == receiver_online);
}

// The receiver's one message of n random OTs with all choices equal to `choice`: the largest
// distance of a column's share of ones from 1/2 (n = 8192 fair bits per column: σ = 0.0055).
double worst_column_imbalance(std::int64_t n, std::uint8_t choice, int softspoken_k) {
  const std::vector<std::uint8_t> choices(static_cast<std::size_t>(n), choice);
  std::vector<std::vector<std::uint8_t>> sent;
  run_ot([&](Comm& cm, OtExtSender& s) { (void)s.random_ot(cm, n); },
         [&](Comm& cm, OtExtReceiver& r) {
           RecordingComm rec(cm);
           (void)r.random_ot(rec, choices);
           sent = rec.sent;
         },
         false, softspoken_k);
  REQUIRE(sent.size() == 1);
  const std::size_t columns = static_cast<std::size_t>(softspoken_chunks(softspoken_k)), column_bytes = static_cast<std::size_t>(n) / 8;
  REQUIRE(sent[0].size() == columns * column_bytes);
  double worst = 0;
  for (std::size_t j = 0; j < columns; ++j) {
    std::uint64_t ones = 0;
    for (std::size_t b = 0; b < column_bytes; ++b) ones += static_cast<std::uint64_t>(__builtin_popcount(sent[0][j * column_bytes + b]));
    worst = std::max(worst, std::abs(static_cast<double>(ones) / static_cast<double>(n) - 0.5));
  }
  return worst;
}

}  // namespace

// ---------------------------------------------------------------- ristretto255 and base OT

TEST_CASE("ristretto255: libsodium gives RFC 9496's multiples of the generator and refuses its bad encodings") {
  require_sodium();
  // RFC 9496, appendix A.1: encodings of 0·B .. 15·B.
  const char* multiples[16] = {
      "0000000000000000000000000000000000000000000000000000000000000000", "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
      "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919", "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
      "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57", "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
      "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403", "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
      "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c", "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
      "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f", "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
      "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460", "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
      "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e", "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e"};
  std::uint8_t scalar[32] = {0}, point[32];
  CHECK(crypto_scalarmult_ristretto255_base(point, scalar) == -1);  // 0·B is the identity: refused
  for (int k = 1; k < 16; ++k) {
    scalar[0] = static_cast<std::uint8_t>(k);
    REQUIRE(crypto_scalarmult_ristretto255_base(point, scalar) == 0);
    CHECK(std::vector<std::uint8_t>(point, point + 32) == hex(multiples[k]));
    CHECK(crypto_core_ristretto255_is_valid_point(point) == 1);
    if (k >= 2) {  // (k−1)·B + B through the group law, too
      std::uint8_t sum[32];
      REQUIRE(crypto_core_ristretto255_add(sum, hex(multiples[k - 1]).data(), hex(multiples[1]).data()) == 0);
      CHECK(std::vector<std::uint8_t>(sum, sum + 32) == hex(multiples[k]));
    }
  }
  // RFC 9496, appendix A.2: non-canonical, negative, non-square, negative xy, s = −1.
  const char* bad[] = {"00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                       "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                       "0100000000000000000000000000000000000000000000000000000000000000", "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                       "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20", "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
                       "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371", "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
                       "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e", "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
                       "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"};
  for (const char* b : bad) CHECK(crypto_core_ristretto255_is_valid_point(hex(b).data()) == 0);
}

TEST_CASE("base OT: the receiver gets the key of its choice and not the other, one round trip, exact bytes") {
  const auto choices = random_choices(128);
  std::vector<std::array<Block, 2>> keys;
  std::vector<Block> got;
  const auto res = run_comm_pair(
      Role::client, [&](Comm& c) { keys = base_ot_send(c, Role::server, 128); }, Role::server,
      [&](Comm& c) { got = base_ot_receive(c, Role::client, choices); });
  REQUIRE(keys.size() == 128);
  REQUIRE(got.size() == 128);
  int distinct_pairs = 0;
  for (std::size_t j = 0; j < 128; ++j) {
    CHECK(got[j] == keys[j][choices[j]]);
    CHECK(got[j] != keys[j][1 - choices[j]]);
    distinct_pairs += keys[j][0] != keys[j][1];
  }
  CHECK(distinct_pairs == 128);
  CHECK(res.a.total(Phase::online).bytes_sent == base_ot_sender_bytes(128));
  CHECK(res.b.total(Phase::online).bytes_sent == base_ot_receiver_bytes(128));
  CHECK(res.a.total(Phase::online).messages == 1);
  CHECK(res.b.total(Phase::online).messages == 1);
  CHECK(res.a.clock[kOn].hops == 2);  // A out, B back: one round trip
}

TEST_CASE("base OT: an invalid, identity or truncated point from the peer is a clear protocol error") {
  const auto choices = random_choices(4);
  auto receive_from = [&](std::vector<std::uint8_t> a_msg) {
    run_comm_pair(
        Role::client, [&](Comm& c) { c.send_bytes(Role::server, a_msg.data(), a_msg.size()); }, Role::server,
        [&](Comm& c) { (void)base_ot_receive(c, Role::client, choices); });
  };
  CHECK_THROWS_WITH(receive_from(hex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
                    Catch::Contains("not a valid ristretto255 encoding"));
  CHECK_THROWS_WITH(receive_from(std::vector<std::uint8_t>(32, 0)), Catch::Contains("identity"));
  CHECK_THROWS_AS(receive_from(std::vector<std::uint8_t>(31, 1)), ProtocolError);
  // The sender refuses a bad B.
  CHECK_THROWS_WITH(run_comm_pair(
                        Role::client, [&](Comm& c) { (void)base_ot_send(c, Role::server, 2); }, Role::server,
                        [&](Comm& c) {
                          (void)c.recv_bytes(Role::client, 32);
                          std::vector<std::uint8_t> bs = hex(
                              "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
                              "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562");
                          c.send_bytes(Role::client, bs.data(), bs.size());
                        }),
                    Catch::Contains("the receiver's point B is not a valid ristretto255 encoding"));
}

// ---------------------------------------------------------------- building blocks

TEST_CASE("transpose_bits equals the bit-by-bit transpose") {
  const std::uint64_t rows = 128, cols = 200;
  std::vector<std::uint8_t> in(rows * cols / 8), out(rows * cols / 8);
  Prg::from_os().fill_bytes(in.data(), in.size());
  transpose_bits(in.data(), out.data(), rows, cols);
  auto bit = [](const std::vector<std::uint8_t>& m, std::uint64_t row_bytes, std::uint64_t r, std::uint64_t c) {
    return (m[r * row_bytes + c / 8] >> (c % 8)) & 1;
  };
  int mismatches = 0;
  for (std::uint64_t r = 0; r < rows; ++r)
    for (std::uint64_t c = 0; c < cols; ++c) mismatches += bit(in, cols / 8, r, c) != bit(out, rows / 8, c, r);
  CHECK(mismatches == 0);
  CHECK_THROWS_AS(transpose_bits(in.data(), out.data(), 100, 8), std::invalid_argument);
}

TEST_CASE("bit packing round-trips values of every width and refuses to read past the end") {
  std::vector<int> widths;
  for (int w = 1; w <= 64; ++w) widths.push_back(w);
  u64 total = 0;
  for (int w : widths) total += static_cast<u64>(w);
  const auto values = random_values(widths.size(), 64);
  BitWriter out(total);
  for (std::size_t i = 0; i < widths.size(); ++i) out.put(values[i], widths[i]);
  CHECK(out.bytes().size() == (total + 7) / 8);
  BitReader in(out.bytes().data(), out.bytes().size());
  for (std::size_t i = 0; i < widths.size(); ++i) CHECK(in.get(widths[i]) == (values[i] & low_bits_mask(widths[i])));
  CHECK_THROWS_AS(in.get(64), ProtocolError);
}

// ---------------------------------------------------------------- IKNP

TEST_CASE("IKNP random OT: m_c matches the sender's, the other differs, exact bytes per phase") {
  const std::int64_t n = 10003;  // not a multiple of 8: the padding is counted
  const auto choices = random_choices(n);
  RandomOtPairs pairs;
  std::vector<Block> got;
  const auto res = run_ot([&](Comm& c, OtExtSender& s) { pairs = s.random_ot(c, n); },
                          [&](Comm& c, OtExtReceiver& r) { got = r.random_ot(c, choices); });
  REQUIRE(got.size() == static_cast<std::size_t>(n));
  REQUIRE(pairs.m0.size() == static_cast<std::size_t>(n));
  std::int64_t right = 0, other_differs = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    right += got[i] == (choices[i] ? pairs.m1[i] : pairs.m0[i]);
    other_differs += got[i] != (choices[i] ? pairs.m0[i] : pairs.m1[i]);
  }
  CHECK(right == n);
  CHECK(other_differs == n);
  check_bytes(res, 0, 16 * 10008);
  CHECK(res.b.total(Phase::online).messages == 1);
}

TEST_CASE("IKNP correlated OT over Z_2^l: y = x + c*delta exactly, l bits per OT, uniform and mixed widths") {
  const std::int64_t n = 6400;
  const auto choices = random_choices(n);
  for (const std::vector<std::uint8_t>& widths : {std::vector<std::uint8_t>{64}, std::vector<std::uint8_t>{1, 7, 33, 64}}) {
    const auto deltas = random_values(n, 64);
    std::vector<u64> x, y;
    const auto res = run_ot([&](Comm& c, OtExtSender& s) { x = s.correlated_ot(c, deltas, widths); },
                            [&](Comm& c, OtExtReceiver& r) { y = r.correlated_ot(c, choices, widths); });
    REQUIRE(x.size() == static_cast<std::size_t>(n));
    REQUIRE(y.size() == static_cast<std::size_t>(n));
    std::int64_t exact = 0;
    u64 bits = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const int w = widths[static_cast<std::size_t>(i) % widths.size()];
      bits += static_cast<u64>(w);
      exact += y[i] == ((x[i] + (choices[i] ? deltas[i] : 0)) & low_bits_mask(w));
    }
    CHECK(exact == n);
    check_bytes(res, (bits + 7) / 8, 16 * static_cast<u64>(n));
    CHECK(res.a.clock[kOn].hops == 1);  // columns in, corrections out: one round trip
    CHECK(res.b.clock[kOn].hops == 2);
  }
}

TEST_CASE("IKNP chosen-message OT of l-bit strings: the receiver gets exactly its message, 2l bits back") {
  const std::int64_t n = 3001;
  const auto choices = random_choices(n);
  for (int bits : {1, 17, 64}) {
    const auto m0 = random_values(n, bits), m1 = random_values(n, bits);
    std::vector<u64> got;
    const auto res = run_ot([&](Comm& c, OtExtSender& s) { s.chosen_ot(c, m0, m1, bits); },
                            [&](Comm& c, OtExtReceiver& r) { got = r.chosen_ot(c, choices, bits); });
    REQUIRE(got.size() == static_cast<std::size_t>(n));
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < n; ++i) right += got[i] == (choices[i] ? m1[i] : m0[i]);
    CHECK(right == n);
    check_bytes(res, (2 * static_cast<u64>(n) * static_cast<u64>(bits) + 7) / 8, 16 * iknp_padded(n));
  }
}

TEST_CASE("1-out-of-N OT for N = 2, 4, 16, 256: the receiver gets message c of each OT") {
  for (int k : {1, 2, 4, 8}) {
    const std::int64_t n = k == 8 ? 200 : 1000;
    const std::size_t N = std::size_t{1} << k;
    const int bits = k == 4 ? 2 : 11;
    const auto choices = random_choices(static_cast<std::size_t>(n), static_cast<int>(N));
    const auto messages = random_values(static_cast<std::size_t>(n) * N, bits);
    std::vector<u64> got;
    const auto res = run_ot([&](Comm& c, OtExtSender& s) { s.one_of_n_ot(c, messages, k, bits); },
                            [&](Comm& c, OtExtReceiver& r) { got = r.one_of_n_ot(c, choices, k, bits); });
    REQUIRE(got.size() == static_cast<std::size_t>(n));
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < n; ++i) right += got[i] == messages[static_cast<std::size_t>(i) * N + choices[i]];
    CHECK(right == n);
    check_bytes(res, (static_cast<u64>(n) * N * static_cast<u64>(bits) + 7) / 8, 16 * iknp_padded(n * k));
  }
}

TEST_CASE("IKNP: one set-up serves many extensions, and phantom runs send exactly the bytes and rounds of real ones") {
  const std::int64_t n = 999;
  const auto choices = random_choices(n);
  const auto deltas = random_values(n, 64);
  const std::vector<u64> m = random_values(n * 4, 3);
  const std::vector<std::uint8_t> widths{64, 40, 3};
  const auto quad_choices = random_choices(n, 4);
  auto sender = [&](Comm& c, OtExtSender& s) {
    (void)s.random_ot(c, n);
    (void)s.correlated_ot(c, deltas, {64});
    s.chosen_ot(c, deltas, deltas, 64);
    (void)s.correlated_ot(c, deltas, widths);
    s.one_of_n_ot(c, m, 2, 3);
  };
  bool all_right = true;
  auto receiver = [&](Comm& c, OtExtReceiver& r) {
    (void)r.random_ot(c, choices);
    (void)r.correlated_ot(c, choices, {64});
    const auto got = r.chosen_ot(c, choices, 64);
    (void)r.correlated_ot(c, choices, widths);
    const auto q = r.one_of_n_ot(c, quad_choices, 2, 3);
    if (c.phantom()) return;
    for (std::int64_t i = 0; i < n; ++i) all_right = all_right && got[i] == deltas[i] && q[i] == m[static_cast<std::size_t>(i) * 4 + quad_choices[i]];
  };
  const auto real = run_ot(sender, receiver);
  CHECK(all_right);
  const auto ph = run_ot(sender, receiver, true);
  check_phantom_equals_real(real, ph);
  CHECK(real.a.total(Phase::online).bytes_sent == 8 * n + 2 * 8 * n + (107 * n / 3 + 7) / 8 + (n * 4 * 3 + 7) / 8);
}

TEST_CASE("IKNP: the same choices twice give fresh messages (new set-up), and the next batch differs too") {
  const std::int64_t n = 256;
  const std::vector<std::uint8_t> choices(n, 1);
  std::vector<Block> first, second, third;
  for (auto* out : {&first, &second}) {
    run_ot([&](Comm& c, OtExtSender& s) { (void)s.random_ot(c, n); },
           [&, out](Comm& c, OtExtReceiver& r) {
             *out = r.random_ot(c, choices);
             if (out == &second) third = r.random_ot(c, choices);
           });
  }
  std::int64_t same = 0, same_in_session = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    same += first[i] == second[i];
    same_in_session += second[i] == third[i];
  }
  CHECK(same == 0);
  CHECK(same_in_session == 0);
}

TEST_CASE("IKNP: the receiver's columns look the same for all-zero and all-one choices (bit balance per column)") {
  // 0.05 is 9σ (never flaky); a column that leaked the choices (all 0 or all 1) would be 0.5 away.
  for (std::uint8_t c : {0, 1}) CHECK(worst_column_imbalance(8192, c, 1) < 0.05);
}

TEST_CASE("IKNP: bad input and wrong-size messages are clear errors") {
  OtExtSender s;
  OtExtReceiver r;
  run_comm_pair(
      Role::client,
      [&](Comm& c) {
        CHECK_THROWS_AS(s.random_ot(c, 8), std::logic_error);  // before set-up
      },
      Role::server, [&](Comm& c) { CHECK_THROWS_AS(r.random_ot(c, {0, 1}), std::logic_error); });
  // Arguments are checked before anything is sent.
  run_ot(
      [&](Comm& c, OtExtSender& snd) {
        CHECK_THROWS_WITH(snd.correlated_ot(c, {1, 2, 3}, {64, 64}), Catch::Contains("2 widths do not divide 3 OTs"));
        CHECK_THROWS_WITH(snd.chosen_ot(c, {4}, {1}, 2), Catch::Contains("more than 2 bits"));
        CHECK_THROWS_WITH(snd.one_of_n_ot(c, {1, 2, 3}, 2, 8), Catch::Contains("not a whole number of OTs"));
        CHECK_THROWS_WITH(snd.one_of_n_ot(c, {1, 2}, 9, 8), Catch::Contains("outside 1..8"));
        CHECK_THROWS_WITH(snd.chosen_ot(c, {1}, {1}, 65), Catch::Contains("outside 1..64"));
      },
      [&](Comm& c, OtExtReceiver& rcv) {
        CHECK_THROWS_WITH(rcv.random_ot(c, {0, 2}), Catch::Contains("choice 1 is 2, not a bit"));
        CHECK_THROWS_WITH(rcv.one_of_n_ot(c, {0, 4}, 2, 8), Catch::Contains("not below N = 4"));
      });
  // A receiver whose columns are short: the sender's extension fails with a protocol error.
  CHECK_THROWS_AS(run_ot([&](Comm& c, OtExtSender& snd) { (void)snd.random_ot(c, 64); },
                         [&](Comm& c, OtExtReceiver& rcv) { (void)rcv.random_ot(c, std::vector<std::uint8_t>(56, 0)); }),
                  ProtocolError);
}

// ---------------------------------------------------------------- SoftSpokenOT

TEST_CASE("SoftSpokenOT k = 2, 3, 4, 8, 10: random and correlated OT are right, ceil(128/k) bits per OT from the receiver") {
  const std::int64_t n = 20005;
  const auto choices = random_choices(n);
  const auto deltas = random_values(n, 64);
  for (int k : {2, 3, 4, 8, 10}) {  // 3 and 10 do not divide 128: a last chunk of 2 and of 8
    CAPTURE(k);
    RandomOtPairs pairs;
    std::vector<Block> got;
    std::vector<u64> x, y;
    const auto res = run_ot(
        [&](Comm& c, OtExtSender& s) {
          pairs = s.random_ot(c, n);
          x = s.correlated_ot(c, deltas, {64});
        },
        [&](Comm& c, OtExtReceiver& r) {
          got = r.random_ot(c, choices);
          y = r.correlated_ot(c, choices, {64});
        },
        false, k);
    REQUIRE(got.size() == static_cast<std::size_t>(n));
    REQUIRE(y.size() == static_cast<std::size_t>(n));
    std::int64_t right = 0, other_differs = 0, cot_right = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      right += got[i] == (choices[i] ? pairs.m1[i] : pairs.m0[i]);
      other_differs += got[i] != (choices[i] ? pairs.m0[i] : pairs.m1[i]);
      cot_right += y[i] == x[i] + (choices[i] ? deltas[i] : 0);
    }
    CHECK(right == n);
    CHECK(other_differs == n);
    CHECK(cot_right == n);
    const u64 chunks = (128 + static_cast<u64>(k) - 1) / static_cast<u64>(k);  // one n̄-bit column each
    check_bytes(res, 8 * static_cast<u64>(n), 2 * chunks * iknp_padded(n) / 8, k);
    CHECK(iknp_receiver_bytes(n, k) == chunks * iknp_padded(n) / 8);
    CHECK(res.b.total(Phase::offline).bytes_sent == 32 + 4096);  // A, then the GGM level sums
    CHECK(res.a.clock[kOff].hops == 3);                           // A, B, level sums
    const auto ph = run_ot(
        [&](Comm& c, OtExtSender& s) {
          (void)s.random_ot(c, n);
          (void)s.correlated_ot(c, deltas, {64});
        },
        [&](Comm& c, OtExtReceiver& r) {
          (void)r.random_ot(c, choices);
          (void)r.correlated_ot(c, choices, {64});
        },
        true, k);
    check_phantom_equals_real(res, ph);
  }
}

TEST_CASE("SoftSpokenOT: the receiver's chunk corrections are balanced for all-zero and all-one choices, k outside 1..10 refused") {
  for (std::uint8_t c : {0, 1}) CHECK(worst_column_imbalance(8192, c, 4) < 0.05);
  for (std::uint8_t c : {0, 1}) CHECK(worst_column_imbalance(8192, c, 10) < 0.05);
  CHECK_THROWS_WITH(OtExtSender(11), Catch::Contains("k = 11 is outside 1 (IKNP) .. 10"));
  CHECK_THROWS_AS(OtExtension(0), std::invalid_argument);
  CHECK_THROWS_AS(OtExtension(16), std::invalid_argument);
}

TEST_CASE("OT Beaver triples over SoftSpokenOT k = 4: c = a*b for all") {
  const std::int64_t n = 2000;
  BeaverTriples tc, ts;
  auto program = [](BeaverTriples& out, Role peer) {
    return [&out, peer](Comm& c) {
      OtExtension ext(4);
      ext.setup(c, peer);
      out = ot_beaver_triples(c, ext, n);
    };
  };
  const auto res = run_comm_pair(Role::client, program(tc, Role::server), Role::server, program(ts, Role::client));
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < n; ++i) right += tc.c[i] + ts.c[i] == (tc.a[i] + ts.a[i]) * (tc.b[i] + ts.b[i]);
  CHECK(right == n);
  // Per product: 64 OTs of 32 bits of columns (128/4) = 256 bytes, plus 260 bytes of corrections.
  CHECK(res.a.total(Phase::offline).bytes_sent == iknp_setup_sender_bytes() + iknp_setup_receiver_bytes(4) + static_cast<u64>(n) * (256 + 260));
}

// ---------------------------------------------------------------- triples

TEST_CASE("OT Beaver triples: c = a*b mod 2^64 for all, across batch boundaries, 1284 bytes each way per triple, offline") {
  const std::int64_t n = 2500, batch = 1000;
  BeaverTriples tc, ts;
  auto program = [](BeaverTriples& out, Role peer) {
    return [&out, peer](Comm& c) {
      OtExtension ext;
      ext.setup(c, peer);
      out = ot_beaver_triples(c, ext, n, batch);
    };
  };
  const auto real = run_comm_pair(Role::client, program(tc, Role::server), Role::server, program(ts, Role::client));
  REQUIRE(tc.c.numel() == n);
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < n; ++i) right += tc.c[i] + ts.c[i] == (tc.a[i] + ts.a[i]) * (tc.b[i] + ts.b[i]);
  CHECK(right == n);
  const u64 setup = iknp_setup_sender_bytes() + iknp_setup_receiver_bytes();
  CHECK(real.a.total(Phase::offline).bytes_sent == setup + ot_triple_bytes_each_way(n));
  CHECK(real.b.total(Phase::offline).bytes_sent == setup + ot_triple_bytes_each_way(n));
  CHECK(real.a.total(Phase::online).bytes_sent == 0);
  CHECK(real.a.clock[kOff].hops == 2 + 3 * 2);  // set-up: one round trip; each of 3 batches: one round trip
  BeaverTriples pc, ps;
  const auto ph = run_comm_pair(Role::client, program(pc, Role::server), Role::server, program(ps, Role::client), network_preset("lan"), true);
  check_phantom_equals_real(real, ph);
  CHECK(pc.c.is_phantom());
  CHECK(pc.c.numel() == n);
}

TEST_CASE("Gilboa product: shares of a*b where a is the sender's and b the receiver's") {
  const std::int64_t n = 500;
  Prg prg = Prg::from_os();
  const RingTensor a = prg.random({n}), b = prg.random({n});
  RingTensor za, zb;
  run_ot([&](Comm& c, OtExtSender& s) { za = gilboa_product_send(c, s, a); },
         [&](Comm& c, OtExtReceiver& r) { zb = gilboa_product_receive(c, r, b); });
  std::int64_t right = 0;
  for (std::int64_t i = 0; i < n; ++i) right += za[i] + zb[i] == a[i] * b[i];
  CHECK(right == n);
}
