// Sub-command entry points of the `marill` CLI.
// Each takes the arguments after the sub-command name and returns the process exit code.
#pragma once

namespace marill {

int bench_primitives(int argc, char** argv);  // app/bench_primitives.cpp
int bench_ring_matmul(int argc, char** argv);  // app/bench_matmul.cpp
int bench_dcf(int argc, char** argv);  // DCF / LTZ micro benchmark (app/bench_dcf.cpp)
int bench_layer(int argc, char** argv);  // app/bench_layer.cpp: one private block by op kind
int bench_functions(int argc, char** argv);  // app/bench_functions.cpp: every library function's cost and error per setting
int cmd_deal(int argc, char** argv);     // app/cmd_deal.cpp: the 2pc-dealer dealer's key files for one point
int cmd_generate(int argc, char** argv); // app/cmd_generate.cpp: a secure generation with a whole model, cost per token
int cmd_run(int argc, char** argv);      // app/cmd_run.cpp: a scenario's sweep -> CSV rows
int cmd_plot(int argc, char** argv);     // app/cmd_plot.cpp: PNGs of a sweep's CSV (gnuplot), quality beside cost
int cmd_calibrate(int argc, char** argv);       // app/cmd_calibrate.cpp: the compute model of phantom runs on this machine
int bench_phantom_time(int argc, char** argv);  // app/bench_phantom_time.cpp: phantom vs real simulated time
int cmd_party(int argc, char** argv);        // app/cmd_party.cpp: one party of a block point over ZeroMQ/Curve
int cmd_curve_keygen(int argc, char** argv); // app/cmd_party.cpp: a party's Curve key pair
int cmd_relay(int argc, char** argv);        // app/cmd_relay.cpp: a TCP relay adding a one-way delay
int bench_zmq(int argc, char** argv);        // app/bench_zmq.cpp: a stream over CurveZMQ against plain TCP
int bench_ot(int argc, char** argv);         // app/bench_ot.cpp: oblivious transfer and OT triples, rate and bits
int bench_he(int argc, char** argv);         // app/bench_he.cpp: the 2PC matrix product by homomorphic encryption

}  // namespace marill

// The ML half (app/cmd_models.cpp; argv[0] is the sub-command name).
namespace marill {
int cmd_data(int argc, char** argv);      // marill data build|manifest|encode
int cmd_train(int argc, char** argv);     // marill train: pre-train the public base; --reproduce: the whole table
int cmd_finetune(int argc, char** argv);  // marill finetune: one MARILL technique on a private task -> package
int cmd_eval(int argc, char** argv);      // marill eval: chrF / exact match / perplexity of a model or package
int cmd_export(int argc, char** argv);    // marill export: validate/show/copy a package; read a HF LLaMA dir
int cmd_agreement(int argc, char** argv); // app/cmd_agreement.cpp: teacher-forced secure vs float next-token agreement
}  // namespace marill
