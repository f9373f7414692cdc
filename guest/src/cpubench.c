/* /bin/cpubench - a fixed CPU-bound workload for timing the emulator.
 *
 *   cpubench [ROUNDS]     (default 6000: about 320 million instructions, 3 s at 100 MIPS)
 *
 * Each round mixes the instruction classes a kernel-booting emulator spends its time on:
 * integer ALU chains, multiply/divide, loads and stores scattered over 4 MiB (TLB and cache
 * pressure), LR/SC and AMO atomics, and one system call. Prints
 *   cpubench: ns=<monotonic ns> iters=<rounds> checksum=<8 hex digits> insns=<retired>
 * The checksum depends only on ROUNDS, so a test can check that the emulator computed right;
 * insns is as in kbench.h.
 */
#include "kbench.h"

#define DEFAULT_ROUNDS 6000
#define MEM_WORDS (1u << 20) /* 4 MiB */

static uint32_t mem[MEM_WORDS];
static uint32_t atomic_word;
static uint32_t rng_state = 0x12345678u;

static inline uint32_t xorshift32(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

static inline uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u; /* FNV prime */
	return h ^ (h >> 15);
}

/* add, sub, xor, shifts, rotates, compares and branches */
static uint32_t alu_phase(uint32_t h)
{
	uint32_t a = h, b = ~h, i;

	for (i = 0; i < 512; i++) {
		a += (b << 3) | (b >> 29);
		b ^= a - i;
		if ((int32_t)a < (int32_t)b)
			a ^= 0x5bd1e995u;
		else
			b += a >> 7;
	}
	return mix(h, a ^ b);
}

/* mul, mulh, mulhu, div, divu, rem, remu, with divisors never zero */
static uint32_t muldiv_phase(uint32_t h)
{
	uint32_t a = h | 1, i;
	int32_t s = (int32_t)h;

	for (i = 0; i < 128; i++) {
		uint32_t d = (a >> 5) | 1;
		uint64_t wide = (uint64_t)a * (a ^ 0x9e3779b9u);
		int64_t swide = (int64_t)s * (int32_t)(d | 0x80000000u);

		a = a * 0x9e3779b1u + (uint32_t)(wide >> 32);
		a ^= a / d + a % (d >> 3 | 1);
		s = (int32_t)(swide >> 32) + s / (int32_t)(d | 3) - s % 7;
	}
	return mix(h, a ^ (uint32_t)s);
}

/* read-modify-write at scattered indices plus one sequential run per round */
static uint32_t memory_phase(uint32_t h, uint32_t round)
{
	uint32_t i, acc = 0, base = (round * 4099u) & (MEM_WORDS - 1);

	for (i = 0; i < 2048; i++) {
		uint32_t idx = xorshift32() & (MEM_WORDS - 1);

		acc += mem[idx];
		mem[idx] = acc ^ i;
	}
	for (i = 0; i < 1024; i++) {
		uint32_t idx = (base + i) & (MEM_WORDS - 1);

		mem[idx] += idx;
		acc ^= mem[idx];
	}
	return mix(h, acc);
}

/* amoadd, amoswap, amoxor, amoand, amoor and lr/sc compare-and-swap loops */
static uint32_t atomic_phase(uint32_t h)
{
	uint32_t i, acc = 0;

	for (i = 0; i < 64; i++) {
		uint32_t expected;

		acc += __atomic_fetch_add(&atomic_word, i, __ATOMIC_SEQ_CST);
		acc ^= __atomic_exchange_n(&atomic_word, acc, __ATOMIC_ACQ_REL);
		acc += __atomic_fetch_xor(&atomic_word, 0xa5a5a5a5u, __ATOMIC_RELAXED);
		acc += __atomic_fetch_and(&atomic_word, ~i, __ATOMIC_ACQUIRE);
		acc += __atomic_fetch_or(&atomic_word, i << 3, __ATOMIC_RELEASE);
		expected = __atomic_load_n(&atomic_word, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&atomic_word, &expected, expected * 3 + 1, 0,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
	}
	return mix(h, acc ^ atomic_word);
}

int main(int argc, char **argv)
{
	uint32_t rounds = DEFAULT_ROUNDS, r, h = 0x811c9dc5u, i;
	struct kb_mark t0;
	uint64_t ns;
	SB_DECL(s, 128);

	if (argc > 2 || (argc == 2 && (rt_parse_u32(argv[1], &rounds) < 0 || rounds == 0))) {
		rt_puts(2, "usage: cpubench [ROUNDS]\n");
		return 2;
	}
	for (i = 0; i < MEM_WORDS; i += 1024)
		mem[i] = i; /* touch every page before timing */

	kb_start(&t0);
	for (r = 0; r < rounds; r++) {
		h = alu_phase(h);
		h = muldiv_phase(h);
		h = memory_phase(h, r);
		h = atomic_phase(h);
		/* a real trap into the kernel and back; its value (the parent pid) varies, so only
		 * its success goes into the checksum */
		h = mix(h, getppid() > 0);
	}
	ns = kb_elapsed_ns(&t0);

	sb_puts(&s, "cpubench: ns=");
	sb_u64(&s, ns);
	sb_puts(&s, " iters=");
	sb_u64(&s, rounds);
	sb_puts(&s, " checksum=");
	sb_hex(&s, h, 8);
	kb_put_insns(&s, &t0);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}
