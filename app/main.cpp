// marill: MPC-minimized secure LLM inference. Entry point and sub-command dispatch.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"

namespace {

const char* kUsage =
    "usage: marill [COMMAND ...]\n"
    "  (no command)           the main job: marill bench primitives on the simulated LAN\n"
    "  bench primitives       cost table of the secure primitives per setting (--csv FILE)\n"
    "  bench layer            cost of one private transformer block by op kind (heads merged, LoRA)\n"
    "  bench functions        bytes/element, rounds, offline bytes and error of every library function per setting\n"
    "  bench matmul           ring matrix multiply throughput\n"
    "  bench dcf              DCF / comparison key generation and evaluation\n"
    "  generate               secure generation with a whole model (package, HF directory or shape preset): cost per token\n"
    "  run SCENARIO.yaml      a scenario's sweep (scenarios/README.md): one CSV row per point, --resume, --jobs N\n"
    "  deal                   the 2pc-dealer dealer alone: key files for a block point (then bench layer --keys DIR)\n"
    "  plot                   PNGs of a sweep's RESULTS.csv with gnuplot; --quality: quality beside cost\n"
    "  calibrate              the compute model of phantom runs on this machine (--out FILE, --quick, --check)\n"
    "  party                  ONE party of a block point over ZeroMQ with CurveZMQ (--role ROLE --hosts HOSTS.yaml)\n"
    "  curve-keygen           a party's CurveZMQ key pair (--out PREFIX: PREFIX.key, PREFIX.pub)\n"
    "  relay                  a TCP relay adding a one-way delay (--listen IP:PORT --to IP:PORT --delay-ms D)\n"
    "  bench zmq              a 100 MB stream over CurveZMQ against plain TCP ZeroMQ (loopback)\n"
    "  bench ot               oblivious transfer (base OT, IKNP random/correlated/chosen/1-of-N) and OT triples: rate, bits\n"
    "  bench he               the 2pc matrix product by homomorphic encryption: bytes, time, HE parameters, noise margin\n"
    "  bench phantom-time     phantom vs real simulated time: three block shapes in 3pc and 2pc-dealer\n"
    "  data                   build the datasets and tokenizer from Debian packages (docs/training.md)\n"
    "  train | finetune | eval | export   LibTorch MARILL training, evaluation, secure-inference packages\n"
    "  agreement              teacher-forced next-token agreement of secure inference with LibTorch's float model\n"
    "                         (these run in the sibling executable marill-train, which alone links LibTorch)\n"
    "Run 'marill COMMAND --help' for a command's options.\n";

// The ML commands run in the sibling executable marill-train (it alone links LibTorch, so the MPC
// commands here do not pay its memory). Replaces this process; returns only on failure.
int exec_train(int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    std::fprintf(stderr, "marill: cannot find this executable (/proc/self/exe): %s\n", ec.message().c_str());
    return 1;
  }
  const std::string train = (self.parent_path() / "marill-train").string();
  std::vector<char*> args;
  args.push_back(const_cast<char*>(train.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::fflush(stdout);
  ::execv(train.c_str(), args.data());
  std::fprintf(stderr, "marill: cannot run %s for '%s': %s (build the marill-train target)\n", train.c_str(), argv[1],
               std::strerror(errno));
  return 1;
}

int dispatch(int argc, char** argv) {
  if (argc < 2) return marill::bench_primitives(0, nullptr);
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  if (cmd == "deal") return marill::cmd_deal(argc - 2, argv + 2);
  if (cmd == "generate") return marill::cmd_generate(argc - 2, argv + 2);
  if (cmd == "run") return marill::cmd_run(argc - 2, argv + 2);
  if (cmd == "plot") return marill::cmd_plot(argc - 2, argv + 2);
  if (cmd == "calibrate") return marill::cmd_calibrate(argc - 2, argv + 2);
  if (cmd == "party") return marill::cmd_party(argc - 2, argv + 2);
  if (cmd == "curve-keygen") return marill::cmd_curve_keygen(argc - 2, argv + 2);
  if (cmd == "relay") return marill::cmd_relay(argc - 2, argv + 2);
  if (cmd == "bench") {
    if (argc < 3) {
      std::fprintf(stderr, "marill bench: which benchmark? (primitives, layer, functions, matmul, dcf, phantom-time, zmq, ot, he)\n");
      return 2;
    }
    std::string what = argv[2];
    if (what == "primitives") return marill::bench_primitives(argc - 3, argv + 3);
    if (what == "dcf") return marill::bench_dcf(argc - 3, argv + 3);
    if (what == "matmul") return marill::bench_ring_matmul(argc - 3, argv + 3);
    if (what == "layer") return marill::bench_layer(argc - 3, argv + 3);
    if (what == "functions") return marill::bench_functions(argc - 3, argv + 3);
    if (what == "phantom-time") return marill::bench_phantom_time(argc - 3, argv + 3);
    if (what == "zmq") return marill::bench_zmq(argc - 3, argv + 3);
    if (what == "ot") return marill::bench_ot(argc - 3, argv + 3);
    if (what == "he") return marill::bench_he(argc - 3, argv + 3);
    std::fprintf(stderr, "marill bench: unknown benchmark '%s' (primitives, layer, functions, matmul, dcf, phantom-time, zmq, ot, he)\n", what.c_str());
    return 2;
  }
  if (cmd == "data" || cmd == "train" || cmd == "finetune" || cmd == "eval" || cmd == "export" || cmd == "agreement") return exec_train(argc, argv);
  std::fprintf(stderr, "marill: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return marill::run_main(argc, argv, dispatch); }
