// The runner: a point -> each party's program, built from the point and that party's own inputs
// only -> one report per party (actors/report.h) -> rows of one CSV schema per report kind
// (runner/rows.h).
//
// Launchers: run_point() runs every party in this process as a CAF actor (actors/session.h). A
// launcher with one party per process (ZeroMQ, multi-host) calls run_party() with its transport and
// ships the report back (report_to_binary).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/session.h"
#include "protocols/mpc/dealer_backend.h"
#include "runner/point.h"

namespace marill {

SessionConfig session_config(const Point& p);

// The program of `role` at `p`. Inputs are made here, for that role only: the server's block
// weights (random, seeded: models/secure/block_weights.h), the client's hidden state or operand;
// other roles get shapes (and, with LoRA, the public base weights).
// With p.reveal_output, the client writes the SHA-256 (hex) of the opened output to *output_digest.
Program party_program(const Point& p, Role role, std::shared_ptr<std::string> output_digest = nullptr);

// The block as `role` knows it: every value on the server; elsewhere the structure and, in real
// runs with LoRA on a public base, the public base weights; shapes only in phantom runs.
FloatBlock party_block(const Point& p, Role role);

// One party of the point over any transport: the per-party entry of every launcher. With
// p.reveal_output, the client writes the opened output's SHA-256 (hex) to *output_digest; a
// recv_timeout replaces the point's (each receive gives up after it).
PartyReport run_party(const Point& p, Role role, Transport& transport, std::shared_ptr<std::string> output_digest = nullptr,
                      std::optional<std::chrono::milliseconds> recv_timeout = std::nullopt);

struct PointResult {
  Point point;
  SessionResult session;  // one report per party, in session_roles order
  std::string output_sha256;  // p.reveal_output: of the output the client opened
};

// The primitives and shapes of `marill bench primitives` (quick: the small shape of each).
std::vector<PrimitiveOp> primitive_bench_ops(bool quick);

// Every party of the point as a CAF actor in this process. Throws SessionError if a party fails.
PointResult run_point(const Point& p);

// The dealer of a 2pc-dealer point in a run of its own: writes the key files of the point's online
// run to `dir` (p.correlations.dealer_seed applies).
DealReport deal_point(const Point& p, const std::string& dir);

}  // namespace marill
