// Benchmark groups of the crypto module, linked into one binary bench_crypto
// (bench/crypto/CMakeLists.txt globs *.cpp here; its main() calls each group).
// Each function measures its figures and their anchors in the same run and
// prints rows with swarm::bench::Emit (bench/bench_util.h).
#pragma once

void RunMlDsaBenchmarks();  // ml_dsa_bench.cpp: ML-DSA-44/65/87 vs OpenSSL Ed25519
void RunMlKemBenchmarks();   // ml_kem_bench.cpp: ML-KEM-768/1024 vs OpenSSL X25519
void RunMerkleBenchmarks();  // merkle_bench.cpp: Merkle root vs raw SHA3-256 throughput
