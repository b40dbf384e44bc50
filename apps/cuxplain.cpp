// cuxplain: explains an image classifier read from an ONNX file with Sobol,
// HSIC and EVA attribution, and writes heatmap overlays and scores.json; and
// extracts CRAFT concepts of a Fashion-MNIST class; and scores methods with
// the metrics. This file is the program's entry: the command line
// (args.cpp), then explain.cpp, concepts.cpp or evaluate.cpp, and their
// errors as exit statuses.
//
//   cuxplain explain [--method sobol|hsic|eva|all] [--model FILE.onnx] [--image FILE]
//                    [--target N] [--device cpu|cuda] [--out DIR] ...
//   cuxplain concepts --class N [--images N] [--patch P] [--concepts R] ...
//   cuxplain evaluate [--method M,...] [--metrics deletion,insertion,...] ...
//
// `cuxplain --help` documents every option (apps/args.cpp).
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/onnx.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "args.hpp"
#include "concepts.hpp"
#include "evaluate.hpp"
#include "explain.hpp"
#include "output_files.hpp"

namespace cuxplain::cli {
namespace {

void print_usage_error(const std::string& message) {
  std::fprintf(stderr, "cuxplain: error: %s\n%s", message.c_str(), usage_text());
}

/// `status`, or 1 when what the command printed did not reach stdout.
int check_report(int status) {
  try {
    check_stdout();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuxplain: error: %s\n", e.what());
    return 1;
  }
  return status;
}

}  // namespace
}  // namespace cuxplain::cli

int main(int argc, char** argv) {
  using namespace cuxplain::cli;
  // Under a file size limit (ulimit -f) the kernel would kill the program
  // with SIGXFSZ at the first write past it; ignored, that write fails with
  // EFBIG and becomes an error naming the file.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  Command command;
  try {
    command = parse_command_line(arguments);
  } catch (const UsageError& e) {
    print_usage_error(e.what());
    return 2;
  }
  switch (command.kind) {
    case Command::Kind::help:
      std::fputs(help_text(command.help_topic).c_str(), stdout);
      return check_report(0);
    case Command::Kind::version:
      std::printf("cuxplain %s (CUDA backend: %s, ONNX models: %s)\n", CUXPLAIN_VERSION,
                  cuxplain::Context::cuda_available() ? "available" : "not available",
                  cuxplain::nn::onnx_available() ? "yes" : "no");
      return check_report(0);
    case Command::Kind::explain:
    case Command::Kind::concepts:
    case Command::Kind::evaluate: break;
  }
  try {
    switch (command.kind) {
      case Command::Kind::concepts: return check_report(run_concepts(command.concepts));
      case Command::Kind::evaluate: return check_report(run_evaluate(command.evaluate));
      default: return check_report(run_explain(command.explain));
    }
  } catch (const UsageError& e) {
    print_usage_error(e.what());
    return 2;
  } catch (const cuxplain::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuxplain: error: %s\n", e.what());
    return 1;
  }
}
