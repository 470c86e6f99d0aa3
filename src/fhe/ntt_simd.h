// Internal: Highway kernels behind NttTables::Forward/Inverse (ntt_simd.cpp).
// Each returns false when the CPU's best target has fewer than 8 u64 lanes or
// N is too small, and the caller then runs the scalar transform.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace swarm::fhe {

struct NttKernelArgs {
  size_t n = 0;
  uint64_t q = 0;
  const uint64_t* roots = nullptr;  // psi^bitrev(i) and Shoup constants
  const uint64_t* roots_shoup = nullptr;
  const uint64_t* iroots = nullptr;  // psi^-bitrev(i)
  const uint64_t* iroots_shoup = nullptr;
  uint64_t n_inv = 0, n_inv_shoup = 0, last = 0, last_shoup = 0;
};

// True when this CPU runs the vector path (AVX-512).
bool NttSimdAvailable();
bool NttForwardSimd(const NttKernelArgs& args, uint64_t* a);
bool NttInverseSimd(const NttKernelArgs& args, uint64_t* a);

}  // namespace swarm::fhe
