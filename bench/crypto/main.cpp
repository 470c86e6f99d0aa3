// bench_crypto: runs every benchmark group of the crypto module (benches.h).
#include "benches.h"

int main() {
  RunMlDsaBenchmarks();
  RunMlKemBenchmarks();
  RunMerkleBenchmarks();
  return 0;
}
