/* dsp.c - fixed-point sine, sample format conversion and level/frequency analysis.
 * See dsp.h. Integer only: the guest CPU has no FPU and the cross toolchain has no rv32 libgcc
 * soft-float, so floats are assembled bit by bit.
 */
#include "dsp.h"

uint32_t dsp_phase_inc(uint32_t freq_mhz, uint32_t rate)
{
	if (rate == 0)
		return 0;
	/* freq/rate turns per sample, in 2^-32 turns; freq in mHz so divide by 1000 too */
	return (uint32_t)((((uint64_t)freq_mhz << 32) + (uint64_t)rate * 500) / ((uint64_t)rate * 1000));
}

/* Taylor coefficients of sin(pi/2 * z) in Q30, odd powers 1..11: over |z| <= 1 the first
 * omitted term, (pi/2)^13/13!, bounds the error at 6e-8. */
static const int32_t sin_coef_q30[6] = {
	1686629713, -693598668, 85569306, -5026995, 172272, -3864,
};

int32_t dsp_sin_q31(uint32_t phase)
{
	/* As a signed value the phase spans [-1/2, 1/2) turn. Fold the outer quarters onto the
	 * inner ones (sin(pi - x) = sin(x)) so that z = phase / 2^30 lies in [-1, 1]. */
	int32_t s = (int32_t)phase;
	int64_t z, z2, acc, y;
	int i;

	if (s > (1 << 30) || s < -(1 << 30))
		s = (int32_t)(0x80000000u - phase);
	z = s;
	z2 = (z * z) >> 30;
	acc = sin_coef_q30[5];
	for (i = 4; i >= 0; i--)
		acc = sin_coef_q30[i] + ((acc * z2) >> 30);
	y = (acc * z) >> 29; /* Q31 */
	if (y > 0x7fffffff)
		y = 0x7fffffff;
	if (y < -0x7fffffff)
		y = -0x7fffffff;
	return (int32_t)y;
}

int32_t dsp_mul_q31(int32_t a, int32_t b)
{
	int64_t p = ((int64_t)a * b + (1ll << 30)) >> 31;

	return p > 0x7fffffff ? 0x7fffffff : (int32_t)p;
}

int16_t dsp_q31_to_s16(int32_t q)
{
	int64_t v = ((int64_t)q + 0x8000) >> 16;

	return (int16_t)(v > 32767 ? 32767 : v);
}

uint32_t dsp_q31_to_float_bits(int32_t q)
{
	uint32_t sign = q < 0 ? 0x80000000u : 0;
	uint32_t mag = q < 0 ? 0u - (uint32_t)q : (uint32_t)q;
	uint32_t exp, mant;
	int p = 31;

	if (mag == 0)
		return 0;
	while (!(mag >> p))
		p--;
	/* value = mag * 2^-31 = 1.f * 2^(p-31): biased exponent p - 31 + 127 */
	exp = (uint32_t)(p + 96);
	if (p > 23) {
		int shift = p - 23;
		uint32_t rem = mag & ((1u << shift) - 1), half = 1u << (shift - 1);

		mant = mag >> shift;
		if (rem > half || (rem == half && (mant & 1)))
			mant++; /* round to nearest, ties to even */
		if (mant == 1u << 24) {
			mant >>= 1;
			exp++;
		}
	} else {
		mant = mag << (23 - p);
	}
	return sign | exp << 23 | (mant & 0x7fffffu);
}

int32_t dsp_float_bits_to_q31(uint32_t bits)
{
	int neg = (int)(bits >> 31);
	int exp = (int)((bits >> 23) & 0xff);
	uint32_t m = (bits & 0x7fffffu) | 0x800000u;
	uint64_t mag;
	int sh;

	if (exp == 0xff && (bits & 0x7fffffu))
		return 0; /* NaN: silence rather than a full-scale click */
	if (exp == 0)
		return 0; /* zero and denormals are far below one Q31 step */
	/* value = m * 2^(exp - 150); in Q31 that is m * 2^(exp - 119) */
	sh = exp - 119;
	if (sh >= 8)
		mag = 1ull << 31; /* |value| >= 1 (or infinity): clip */
	else if (sh >= 0)
		mag = (uint64_t)m << sh;
	else if (sh > -26)
		mag = ((uint64_t)m + (1ull << (-sh - 1))) >> -sh;
	else
		mag = 0;
	if (neg)
		return mag >= (1ull << 31) ? (int32_t)0x80000000u : -(int32_t)mag;
	return mag > 0x7fffffff ? 0x7fffffff : (int32_t)mag;
}

/* ---- zero-crossing frequency estimator ---- */

/* Floor of the hysteresis: ignore wiggles below about -66 dBFS. */
#define ZC_HYST_MIN (1u << 20)
/* Level decay per sample: level -= level >> ZC_DECAY_SHIFT (time constant 2^14 samples, so a
 * tone down to a few hertz keeps its level between peaks). */
#define ZC_DECAY_SHIFT 14

void dsp_zc_init(struct dsp_zc *z)
{
	static const struct dsp_zc zero;

	*z = zero;
}

static uint64_t seg_energy(const struct dsp_zc_seg *s)
{
	uint64_t lvl = s->level >> 20; /* 11 bits: the product stays far below 2^64 */

	if (s->count < 2)
		return 0;
	return ((s->last_q16 - s->first_q16) >> 16) * lvl * lvl + 1;
}

static void seg_close(struct dsp_zc *z)
{
	if (seg_energy(&z->cur) > seg_energy(&z->best))
		z->best = z->cur;
	z->cur.count = 0;
}

void dsp_zc_push(struct dsp_zc *z, int32_t x)
{
	uint32_t mag = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
	uint32_t hyst;

	z->level -= z->level >> ZC_DECAY_SHIFT;
	if (mag > z->level)
		z->level = mag;
	if (z->cur.count && (z->level / 2 > z->cur.level || z->level < z->cur.level / 2))
		seg_close(z);
	hyst = z->level / 2;
	if (hyst < ZC_HYST_MIN)
		hyst = ZC_HYST_MIN;
	if (z->low && x >= 0 && z->prev < 0 && z->index > 0) {
		/* remember the samples; the division waits until the crossing counts */
		z->have_zero = 1;
		z->zero_a = z->prev;
		z->zero_b = x;
		z->zero_index = z->index;
	}
	if (!z->low) {
		if (x < 0 && mag > hyst) {
			z->low = 1;
			z->have_zero = 0;
		}
	} else if (x > 0 && mag > hyst && z->have_zero) {
		/* linear interpolation of where the signal was 0 between zero_a and zero_b */
		uint64_t num = (uint64_t)(-(int64_t)z->zero_a) << 16;
		uint64_t den = (uint64_t)((int64_t)z->zero_b - (int64_t)z->zero_a);
		uint64_t pos = ((z->zero_index - 1) << 16) + num / den;

		if (z->cur.count == 0) {
			z->cur.first_q16 = pos;
			z->cur.level = z->level;
		}
		z->cur.last_q16 = pos;
		z->cur.count++;
		z->low = 0;
	}
	z->prev = x;
	z->index++;
}

uint64_t dsp_zc_freq_mhz(const struct dsp_zc *z, uint32_t rate)
{
	const struct dsp_zc_seg *s = seg_energy(&z->cur) > seg_energy(&z->best) ? &z->cur : &z->best;
	uint64_t span = s->last_q16 - s->first_q16;

	if (s->count < 2 || span == 0)
		return 0;
	/* (count-1) periods in span/65536 samples */
	return ((uint64_t)(s->count - 1) * rate * 1000 * 65536 + span / 2) / span;
}

/* ---- level statistics ---- */

uint32_t dsp_isqrt64(uint64_t v)
{
	uint64_t r = 0, bit = 1ull << 62;

	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return (uint32_t)r;
}

void dsp_stats_init(struct dsp_stats *s, uint32_t channels)
{
	uint32_t c;

	s->channels = channels;
	s->samples = 0;
	s->sumsq_q32 = 0;
	s->peak = 0;
	for (c = 0; c < DSP_MAX_CHANNELS; c++) {
		s->chan_sumsq[c] = 0;
		dsp_zc_init(&s->zc[c]);
	}
}

void dsp_stats_push(struct dsp_stats *s, const int32_t *q31, uint32_t frames)
{
	uint32_t f, c, ch = s->channels;

	for (f = 0; f < frames; f++) {
		for (c = 0; c < ch; c++) {
			int32_t x = *q31++;
			uint32_t mag = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
			int64_t x16 = x >> 15;
			uint64_t sq = (uint64_t)(x16 * x16);

			if (mag > s->peak)
				s->peak = mag;
			s->sumsq_q32 += sq;
			if (c < DSP_MAX_CHANNELS) {
				s->chan_sumsq[c] += sq;
				dsp_zc_push(&s->zc[c], x);
			}
		}
	}
	s->samples += (uint64_t)frames * ch;
}

uint32_t dsp_stats_rms_e4(const struct dsp_stats *s)
{
	uint64_t ms_q32, rms_q24;

	if (s->samples == 0)
		return 0;
	ms_q32 = s->sumsq_q32 / s->samples;
	rms_q24 = dsp_isqrt64(ms_q32 << 16);
	return (uint32_t)((rms_q24 * 10000 + (1u << 23)) >> 24);
}

uint32_t dsp_stats_peak_e4(const struct dsp_stats *s)
{
	return (uint32_t)(((uint64_t)s->peak * 10000 + (1u << 30)) >> 31);
}

uint64_t dsp_stats_freq_mhz(const struct dsp_stats *s, uint32_t rate)
{
	uint32_t c, best = 0, n = s->channels < DSP_MAX_CHANNELS ? s->channels : DSP_MAX_CHANNELS;

	for (c = 1; c < n; c++)
		if (s->chan_sumsq[c] > s->chan_sumsq[best])
			best = c;
	return dsp_zc_freq_mhz(&s->zc[best], rate);
}
