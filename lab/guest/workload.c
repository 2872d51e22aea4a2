/*
 * vmshift lab guest workload: what a running VM does while it is migrated.
 *
 *   workload [-m working_set_mib] [-r dirty_mib_per_s] [-d disk_mib_per_s] [-b block_device]
 *
 * - Memory: allocates the working set, touches it all, then dirties it at the given rate
 *   (one write per 4 KiB page, cycling through the set), as a guest's writable working set.
 * - Disk: writes 4 KiB blocks at the given rate to the block device, each stamped with its
 *   block number, a generation and a checksum; keeps (in memory, which migrates with the VM)
 *   what each block should hold; re-reads one earlier block per write and verifies it. A disk
 *   that lost or mixed up writes across a migration shows as `bad` > 0.
 * - Every second, one heartbeat line on the console (the serial port):
 *     VMSHIFT-HEARTBEAT seq=<n> uptime_ms=<ms> dirtied_mib=<total> disk_writes=<n> disk_ok=<n> disk_bad=<n>
 *   The driver reads these to show the guest alive on whichever host it runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define BLOCK 4096
/* Blocks used on the disk (64 MiB): small enough for any lab disk. */
#define DISK_BLOCKS (64 * 256)

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t checksum(const uint64_t *words, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= words[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* A block: [block number, generation, filler..., checksum of the rest]. */
static void fill_block(uint64_t *words, uint64_t block, uint64_t generation) {
    size_t n = BLOCK / sizeof(uint64_t);
    words[0] = block;
    words[1] = generation;
    for (size_t i = 2; i < n - 1; i++) words[i] = block * 31 + generation * 17 + i;
    words[n - 1] = checksum(words, n - 1);
}

static int check_block(const uint64_t *words, uint64_t block, uint64_t generation) {
    size_t n = BLOCK / sizeof(uint64_t);
    return words[0] == block && words[1] == generation && words[n - 1] == checksum(words, n - 1);
}

int main(int argc, char **argv) {
    long working_set_mib = 64, dirty_mib_s = 8, disk_mib_s = 1;
    const char *device = "/dev/vda";
    int opt;
    while ((opt = getopt(argc, argv, "m:r:d:b:")) != -1) {
        switch (opt) {
        case 'm': working_set_mib = atol(optarg); break;
        case 'r': dirty_mib_s = atol(optarg); break;
        case 'd': disk_mib_s = atol(optarg); break;
        case 'b': device = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-m MiB] [-r MiB/s] [-d MiB/s] [-b device]\n", argv[0]);
            return 2;
        }
    }
    if (working_set_mib < 1) working_set_mib = 1;
    size_t pages = (size_t)working_set_mib * (1024 * 1024 / PAGE);
    volatile uint8_t *memory = malloc(pages * PAGE);
    if (!memory) {
        fprintf(stderr, "workload: cannot allocate %ld MiB\n", working_set_mib);
        return 1;
    }
    for (size_t p = 0; p < pages; p++) memory[p * PAGE] = (uint8_t)p;

    int fd = disk_mib_s > 0 ? open(device, O_RDWR | O_DIRECT | O_SYNC) : -1;
    if (disk_mib_s > 0 && fd < 0)
        fprintf(stderr, "workload: no disk %s (%s): memory only\n", device, strerror(errno));
    uint64_t *generations = calloc(DISK_BLOCKS, sizeof(uint64_t));
    uint64_t *buffer = NULL;
    if (posix_memalign((void **)&buffer, BLOCK, BLOCK) != 0 || !generations) return 1;

    /* Work in slices of 50 ms: the rates are spread evenly over each second. */
    const uint64_t slice_ms = 50;
    size_t pages_per_slice = (size_t)dirty_mib_s * (1024 * 1024 / PAGE) * slice_ms / 1000;
    long blocks_per_slice_x1000 = disk_mib_s * 256 * (long)slice_ms; /* thousandths */
    long block_credit = 0;
    size_t next_page = 0;
    uint64_t next_block = 0, generation = 0, writes = 0, ok = 0, bad = 0, dirtied_pages = 0;
    uint64_t start = now_ms(), next_beat = start + 1000, seq = 0;
    unsigned rng = 12345;

    for (;;) {
        uint64_t slice_start = now_ms();
        for (size_t i = 0; i < pages_per_slice; i++) {
            memory[next_page * PAGE + (i % 64)] += 1;
            next_page = (next_page + 1) % pages;
        }
        dirtied_pages += pages_per_slice;
        if (fd >= 0) {
            block_credit += blocks_per_slice_x1000;
            while (block_credit >= 1000) {
                block_credit -= 1000;
                uint64_t block = next_block;
                next_block = (next_block + 1) % DISK_BLOCKS;
                generation++;
                fill_block(buffer, block, generation);
                if (pwrite(fd, buffer, BLOCK, (off_t)(block * BLOCK)) == BLOCK) {
                    generations[block] = generation;
                    writes++;
                }
                /* Verify one block written earlier. */
                rng = rng * 1103515245 + 12345;
                uint64_t probe = (rng >> 8) % DISK_BLOCKS;
                if (generations[probe] != 0) {
                    if (pread(fd, buffer, BLOCK, (off_t)(probe * BLOCK)) == BLOCK &&
                        check_block(buffer, probe, generations[probe]))
                        ok++;
                    else
                        bad++;
                }
            }
        }
        uint64_t t = now_ms();
        if (t >= next_beat) {
            seq++;
            printf("VMSHIFT-HEARTBEAT seq=%llu uptime_ms=%llu dirtied_mib=%llu disk_writes=%llu "
                   "disk_ok=%llu disk_bad=%llu\n",
                   (unsigned long long)seq, (unsigned long long)(t - start),
                   (unsigned long long)(dirtied_pages * PAGE / (1024 * 1024)),
                   (unsigned long long)writes, (unsigned long long)ok, (unsigned long long)bad);
            fflush(stdout);
            next_beat += 1000;
            if (next_beat < t) next_beat = t + 1000;
        }
        uint64_t spent = now_ms() - slice_start;
        if (spent < slice_ms) usleep((useconds_t)((slice_ms - spent) * 1000));
    }
}
