/* rt_div.c - 64-bit division and shift helpers that gcc calls on rv32 (RV32M divides only
 * 32-bit words; at -Os a variable 64-bit shift becomes a call too).
 * Normally libgcc provides them, but Debian's riscv64 cross compiler ships an rv64-only libgcc,
 * so the guest programs link these instead. Plain shift-and-subtract: the callers divide rarely
 * (number formatting, once-per-buffer statistics), never per sample.
 */
#include <stdint.h>

uint64_t __lshrdi3(uint64_t a, int b);
uint64_t __ashldi3(uint64_t a, int b);
int64_t __ashrdi3(int64_t a, int b);
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

/* Shifts by a constant 32 are plain word moves, so these cannot recurse into themselves. */
uint64_t __lshrdi3(uint64_t a, int b)
{
	uint32_t lo = (uint32_t)a, hi = (uint32_t)(a >> 32);

	if (b == 0)
		return a;
	if (b >= 32) {
		lo = hi >> (b - 32);
		hi = 0;
	} else {
		lo = (lo >> b) | (hi << (32 - b));
		hi >>= b;
	}
	return (uint64_t)hi << 32 | lo;
}

uint64_t __ashldi3(uint64_t a, int b)
{
	uint32_t lo = (uint32_t)a, hi = (uint32_t)(a >> 32);

	if (b == 0)
		return a;
	if (b >= 32) {
		hi = lo << (b - 32);
		lo = 0;
	} else {
		hi = (hi << b) | (lo >> (32 - b));
		lo <<= b;
	}
	return (uint64_t)hi << 32 | lo;
}

int64_t __ashrdi3(int64_t a, int b)
{
	uint32_t lo = (uint32_t)a;
	int32_t hi = (int32_t)((uint64_t)a >> 32);

	if (b == 0)
		return a;
	if (b >= 32) {
		lo = (uint32_t)(hi >> (b - 32));
		hi = hi >> 31;
	} else {
		lo = (lo >> b) | ((uint32_t)hi << (32 - b));
		hi >>= b;
	}
	return (int64_t)((uint64_t)(uint32_t)hi << 32 | lo);
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;
	int i;

	if (d == 0) {
		/* RISC-V's own rule for division by zero: all ones, remainder = dividend. */
		if (rem)
			*rem = n;
		return ~(uint64_t)0;
	}
	if ((n >> 32) == 0 && (d >> 32) == 0) {
		/* both fit in a word: the hardware divider does it */
		uint32_t n32 = (uint32_t)n, d32 = (uint32_t)d;

		if (rem)
			*rem = n32 % d32;
		return n32 / d32;
	}
	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return __udivmoddi4(n, d, 0);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	__udivmoddi4(n, d, &r);
	return r;
}

static uint64_t mag64(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	uint64_t q = __udivmoddi4(mag64(n), mag64(d), 0);

	return (int64_t)(((n < 0) != (d < 0)) ? (uint64_t)0 - q : q);
}

int64_t __moddi3(int64_t n, int64_t d)
{
	uint64_t r;

	__udivmoddi4(mag64(n), mag64(d), &r);
	return (int64_t)(n < 0 ? (uint64_t)0 - r : r);
}
