// ML-DSA (FIPS 204) samplers over SHAKE (crypto/hash.h): internal to crypto/.
//
// ExpandA, ExpandS, ExpandMask and SampleInBall (Algorithms 29-34). The
// rejection loops consume XOF output until enough values are accepted; how
// many bytes that takes is the only data-dependent quantity (the standard
// defines them this way; the accepted values are stored without branching on
// them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/ml_dsa_poly.h"

namespace swarm::crypto::mldsa_detail {

// a_hat[r*l + s] = RejNTTPoly(rho || s || r), r < k, s < l (already in NTT form).
void ExpandA(Poly* a_hat, const uint8_t rho[32], int k, int l);
// s1[r] = RejBoundedPoly(rho' || r), s2[r] = RejBoundedPoly(rho' || r + l).
void ExpandS(Poly* s1, Poly* s2, const uint8_t rho_prime[64], int k, int l, int eta);
// y[r] = BitUnpack(SHAKE256(rho'' || kappa + r), gamma1 - 1, gamma1), r < l.
void ExpandMask(Poly* y, const uint8_t rho_pp[64], uint16_t kappa, int l, int gamma1_bits);
// c with tau coefficients in {-1, +1}, the rest zero.
void SampleInBall(Poly& c, const uint8_t* c_tilde, size_t c_tilde_len, int tau);

}  // namespace swarm::crypto::mldsa_detail
