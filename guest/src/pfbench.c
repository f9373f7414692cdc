/* /bin/pfbench - page faults: mmap 64 MiB anonymous, write one word in every page, munmap;
 * N times.
 *
 *   pfbench [ROUNDS]     (default 4: 65536 page faults)
 *
 * Every touch is a store page fault on a fresh page: the kernel allocates and zeroes a page,
 * fills a PTE, and munmap frees them all again.
 */
#include "kbench.h"

#define NAME "pfbench"
#define MAP_BYTES (64u << 20)
#define PAGE 4096u

int main(int argc, char **argv)
{
	uint32_t rounds, r, off;
	struct kb_mark t0;
	volatile uint32_t *p;

	if (kb_rounds(argc, argv, NAME, 4, &rounds) < 0)
		return 2;
	kb_start(&t0);
	for (r = 0; r < rounds; r++) {
		p = mmap(0, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return kb_fail(NAME, "mmap of 64 MiB", errno);
		for (off = 0; off < MAP_BYTES; off += PAGE)
			p[off / 4] = off;
		if (munmap((void *)p, MAP_BYTES) < 0)
			return kb_fail(NAME, "munmap", errno);
	}
	kb_report(NAME, &t0, rounds);
	return 0;
}
