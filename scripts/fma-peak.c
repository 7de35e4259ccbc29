// Peak f32 FMA throughput of this CPU: each thread runs 12 independent chains of vector FMAs (more than
// latency x FMA units on any current core), so nothing but the FMA units limits it. The vector width
// is set at compile time (VBYTES: 64 for AVX-512, 32 for AVX2, 16 for NEON); fma-peak.sh builds and runs
// each this CPU has. Prints: <GFLOP/s> <threads> <seconds>.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef VBYTES
#define VBYTES 32
#endif
typedef float vf __attribute__((vector_size(VBYTES)));
#define LANES (VBYTES / 4)
#define CHAINS 12  // the chains in work()

static long iters;
static float sink[64];

// Keeps the compiler from merging lanes or interchanging the loops (which would make each chain run
// alone, latency-bound): the register's value is "used and changed" every iteration.
#if defined(__x86_64__)
#define OPAQUE(x) __asm__ volatile("" : "+v"(x))
#else
#define OPAQUE(x) __asm__ volatile("" : "+w"(x))
#endif

static void *work(void *arg) {
  long t = (long)arg;
  // Lanes are set in plain arrays and copied in whole: assigning lanes of a vector variable one by one
  // makes the compiler keep it in memory, and the loop below then waits on store-to-load forwarding
  // instead of the FMA units (this script's first version measured half the peak that way).
  float fa[LANES], fb[LANES], f1[LANES], f2[LANES];
  for (int l = 0; l < LANES; l++) {
    fa[l] = 0.9999999f - l * 1e-8f, fb[l] = 1e-7f + l * 1e-9f;
    f1[l] = (float)(l + t) * 1e-3f, f2[l] = (float)(l + t) * 2e-3f;
  }
  vf a, b, x1, x2;
  memcpy(&a, fa, sizeof a), memcpy(&b, fb, sizeof b), memcpy(&x1, f1, sizeof x1), memcpy(&x2, f2, sizeof x2);
  vf c0 = x1, c1 = x1, c2 = x1, c3 = x1, c4 = x1, c5 = x1;
  vf c6 = x2, c7 = x2, c8 = x2, c9 = x2, c10 = x2, c11 = x2;
#define FMA(c) c = c * a + b; OPAQUE(c)  // one FMA (-ffp-contract=fast); kept in its register
  for (long n = 0; n < iters; n++) {
    FMA(c0); FMA(c1); FMA(c2); FMA(c3); FMA(c4); FMA(c5);
    FMA(c6); FMA(c7); FMA(c8); FMA(c9); FMA(c10); FMA(c11);
  }
  vf sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  float s = 0;
  for (int l = 0; l < LANES; l++) s += sum[l];
  sink[t % 64] = s;  // keeps the chains alive
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  iters = argc > 2 ? atol(argv[2]) : 400000000L;
  pthread_t th[256];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long t = 0; t < threads; t++) pthread_create(&th[t], NULL, work, (void *)t);
  for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
  double flops = 2.0 * threads * (double)iters * CHAINS * LANES;
  printf("%.1f %d %.2f\n", flops / secs / 1e9, threads, secs);
  return sink[0] == 12345.f;
}
