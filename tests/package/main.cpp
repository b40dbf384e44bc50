// Links against the installed library and runs one op: the second Sobol point
// of any dimension is 0.5.
#include <cuxplain/cuxplain.hpp>

#include <cstdio>
#include <vector>

int main() {
  const cuxplain::Context ctx = cuxplain::Context::host();
  std::vector<float> points(4 * 3);
  cuxplain::generate_samples(ctx, cuxplain::Sampler::sobol, 4, 3, points.data());
  const bool ok = points[3] == 0.5f && points[4] == 0.5f && points[5] == 0.5f;
  std::printf("installed cuxplain: %s\n", ok ? "ok" : "wrong points");
  return ok ? 0 : 1;
}
