/* SPDX-License-Identifier: MIT */
/*
 * rng.c - the model's random number generator: xoshiro256** seeded through
 * splitmix64. Owned by each model, so runs are reproducible and no state is
 * shared between models or threads.
 */
#include "nn_internal.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nn__rng_seed(nn__rng *rng, uint64_t seed)
{
    int i;
    for (i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t nn__rng_next(nn__rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float nn__rng_float(nn__rng *rng)
{
    return (float)(nn__rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}
