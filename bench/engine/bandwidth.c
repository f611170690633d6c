/* Memory read bandwidth with N threads: the ceiling for single-stream decode, which streams
 * every weight once per token. Sums a buffer far larger than the caches, best of 5 passes.
 *
 *   gcc -O3 -march=native -fopenmp bench/engine/bandwidth.c -o bandwidth && ./bandwidth 2
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t bytes = (size_t)2 << 30;
    size_t n = bytes / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(64, bytes);
    if (!buf) return 1;
    memset(buf, 1, bytes);
    omp_set_num_threads(threads);
    double best = 0;
    uint64_t sink = 0;
    for (int pass = 0; pass < 5; pass++) {
        double start = omp_get_wtime();
        uint64_t total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
        for (size_t i = 0; i < n; i++) total += buf[i];
        double secs = omp_get_wtime() - start;
        sink += total;
        double gbs = bytes / secs / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("read bandwidth, %d threads: %.1f GB/s (checksum %llu)\n", threads, best,
           (unsigned long long)(sink & 0xff));
    free(buf);
    return 0;
}
