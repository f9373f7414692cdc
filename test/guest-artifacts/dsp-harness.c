/* Host harness for guest/src/dsp.c (built by dsp.test.ts with the host gcc and libm).
 * The guest code is integer-only; here libm's floating point is the independent reference.
 *
 *   dsp-harness sinerr                      max |dsp_sin_q31 - sin| in Q31 steps
 *   dsp-harness floaterr                    mismatches of the float <-> Q31 conversions
 *   dsp-harness isqrterr                    mismatches of dsp_isqrt64
 *   dsp-harness analyze RATE CH FREQ_MHZ AMP_E6 FRAMES NOISE_E6 LEAD FMT
 *       synthesises a tone with the guest's generator, adds noise and LEAD frames of
 *       silence, round-trips it through FMT (S16, S32, FLOAT) as pcm does, and prints
 *       "rms_e4 peak_e4 freq_mhz" from the guest's analyser
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dsp.h"

static uint32_t lcg = 12345;

static uint32_t rnd(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return lcg;
}

static int sinerr(void)
{
	double worst = 0;
	uint32_t i, p;
	static const uint32_t edges[] = { 0, 1u << 30, 1u << 31, 3u << 30, (1u << 30) - 1,
					  (1u << 30) + 1, 0xffffffffu, 0x7fffffffu, 0x80000001u };

	for (i = 0; i < 2000000 + sizeof(edges) / sizeof(edges[0]); i++) {
		double ref, err;

		p = i < 2000000 ? rnd() : edges[i - 2000000];
		ref = sin(2 * M_PI * (double)p / 4294967296.0) * 2147483648.0;
		if (ref > 2147483647.0)
			ref = 2147483647.0;
		err = fabs((double)dsp_sin_q31(p) - ref);
		if (err > worst)
			worst = err;
	}
	printf("%.1f\n", worst);
	return 0;
}

static uint32_t host_float_bits(int32_t q)
{
	float f = (float)((double)q / 2147483648.0);
	uint32_t b;

	memcpy(&b, &f, 4);
	return b;
}

static int32_t host_q31(float f)
{
	double v = (double)f * 2147483648.0;

	if (isnan(f))
		return 0;
	if (v >= 2147483647.0)
		return 0x7fffffff;
	if (v <= -2147483648.0)
		return (int32_t)0x80000000u;
	return (int32_t)llround(v);
}

static int floaterr(void)
{
	long bad = 0, i;
	static const int32_t qedges[] = { 0, 1, -1, 0x7fffffff, (int32_t)0x80000000u, 0x40000000,
					  0x00ffffff, 0x01000001, 0x7fffff80, 0x7fffffc0, 255, 256 };
	static const float fedges[] = { 0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, -3.0f, 1e-30f,
					1e-45f, 4.6566e-10f, -4.6566e-10f, 0.99999994f };

	for (i = 0; i < 3000000; i++) {
		int32_t q = i < 12 ? qedges[i] : (int32_t)rnd() >> (rnd() & 31);

		if (dsp_q31_to_float_bits(q) != host_float_bits(q)) {
			if (bad++ < 5)
				fprintf(stderr, "q31->float %d: got %08x want %08x\n", q,
					dsp_q31_to_float_bits(q), host_float_bits(q));
		}
	}
	for (i = 0; i < 3000000; i++) {
		float f;
		uint32_t b;

		if (i < 12) {
			f = fedges[i];
		} else {
			/* random bit patterns in about [-2, 2], all exponents below it */
			b = rnd() & 0xbfffffffu;
			memcpy(&f, &b, 4);
		}
		memcpy(&b, &f, 4);
		if (dsp_float_bits_to_q31(b) != host_q31(f)) {
			if (bad++ < 10)
				fprintf(stderr, "float->q31 %08x (%g): got %d want %d\n", b, f,
					dsp_float_bits_to_q31(b), host_q31(f));
		}
	}
	/* NaN and infinities */
	if (dsp_float_bits_to_q31(0x7fc00000u) != 0 || dsp_float_bits_to_q31(0x7f800000u) != 0x7fffffff ||
	    dsp_float_bits_to_q31(0xff800000u) != (int32_t)0x80000000u)
		bad++;
	printf("%ld\n", bad);
	return 0;
}

static int isqrterr(void)
{
	long bad = 0, i;

	for (i = 0; i < 1000000; i++) {
		uint64_t v = i < 1000 ? (uint64_t)i : ((uint64_t)rnd() << 32 | rnd()) >> (rnd() & 63);
		uint64_t r = dsp_isqrt64(v);

		if (r * r > v || (r + 1) * (r + 1) <= v)
			bad++;
	}
	printf("%ld\n", bad);
	return 0;
}

static int32_t roundtrip(int32_t q, const char *fmt)
{
	if (!strcmp(fmt, "S16"))
		return (int32_t)((uint32_t)(int32_t)dsp_q31_to_s16(q) << 16);
	if (!strcmp(fmt, "FLOAT"))
		return dsp_float_bits_to_q31(dsp_q31_to_float_bits(q));
	return q;
}

static int analyze(char **argv)
{
	uint32_t rate = (uint32_t)strtoul(argv[0], 0, 10);
	uint32_t ch = (uint32_t)strtoul(argv[1], 0, 10);
	uint32_t freq_mhz = (uint32_t)strtoul(argv[2], 0, 10);
	uint64_t amp_e6 = strtoull(argv[3], 0, 10);
	uint32_t frames = (uint32_t)strtoul(argv[4], 0, 10);
	int64_t noise_e6 = strtoll(argv[5], 0, 10);
	uint32_t lead = (uint32_t)strtoul(argv[6], 0, 10);
	const char *fmt = argv[7];
	int32_t amp = (int32_t)((amp_e6 * 0x7fffffffull + 500000) / 1000000);
	int32_t noise_amp = (int32_t)((noise_e6 * 0x7fffffffll) / 1000000);
	uint32_t inc = dsp_phase_inc(freq_mhz, rate), phase = 0, f, c;
	int32_t *frame = calloc(ch, sizeof(int32_t));
	struct dsp_stats st;

	dsp_stats_init(&st, ch);
	for (f = 0; f < lead + frames; f++) {
		int32_t v = 0;

		if (f >= lead) {
			v = dsp_mul_q31(dsp_sin_q31(phase), amp);
			phase += inc;
		}
		for (c = 0; c < ch; c++) {
			int64_t x = v;

			if (noise_amp)
				x += ((int64_t)(int32_t)rnd() * noise_amp) >> 31;
			if (x > 0x7fffffff)
				x = 0x7fffffff;
			if (x < -0x7fffffffll - 1)
				x = -0x7fffffffll - 1;
			frame[c] = roundtrip((int32_t)x, fmt);
		}
		dsp_stats_push(&st, frame, 1);
	}
	printf("%u %u %llu\n", dsp_stats_rms_e4(&st), dsp_stats_peak_e4(&st),
	       (unsigned long long)dsp_stats_freq_mhz(&st, rate));
	free(frame);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "sinerr"))
		return sinerr();
	if (argc == 2 && !strcmp(argv[1], "floaterr"))
		return floaterr();
	if (argc == 2 && !strcmp(argv[1], "isqrterr"))
		return isqrterr();
	if (argc == 10 && !strcmp(argv[1], "analyze"))
		return analyze(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of dsp-harness.c\n");
	return 2;
}
