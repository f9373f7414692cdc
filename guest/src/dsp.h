/* dsp.h - integer signal generation and analysis for the pcm tool.
 *
 * The guest has no FPU (RV32IMA), so everything is fixed point. Samples travel as Q31
 * (int32, full scale = 2^31) whatever the PCM format. This file has no libc dependency so the
 * same code is compiled for the host by the tests (test/guest-artifacts/dsp.test.ts).
 */
#ifndef GUEST_DSP_H
#define GUEST_DSP_H

#include <stdint.h>

#define DSP_MAX_CHANNELS 8

/* Phase increment per sample (a 2^32-step turn) for freq_mhz millihertz at rate Hz. */
uint32_t dsp_phase_inc(uint32_t freq_mhz, uint32_t rate);
/* sin(2*pi*phase/2^32) in Q31, max error about 1e-7 of full scale. */
int32_t dsp_sin_q31(uint32_t phase);
/* a*b for two Q31 values, rounded. */
int32_t dsp_mul_q31(int32_t a, int32_t b);

/* Sample format conversion; IEEE-754 single bit patterns built from integers. */
uint32_t dsp_q31_to_float_bits(int32_t q);
int32_t dsp_float_bits_to_q31(uint32_t bits);
int16_t dsp_q31_to_s16(int32_t q);

/* Zero-crossing frequency estimator for one channel: a Schmitt trigger with thresholds at
 * +-level/2, where level is a slowly decaying peak, so noise smaller than half the tone cannot
 * fake crossings. Each low -> high transition counts one period, timed at the last rising zero
 * crossing before it, interpolated between the two samples around it. Crossings are grouped
 * into segments of steady level (a segment ends when the level doubles or halves) and the answer
 * comes from the segment with the most energy (duration x level^2): silence or noise before or
 * after a tone, or a click, does not bias it. Within a segment the frequency is
 * (crossings-1) periods over the first-to-last span. */
struct dsp_zc_seg {
	uint32_t count;     /* crossings */
	uint32_t level;     /* the level when the segment started, Q31 */
	uint64_t first_q16; /* instants of the first and last crossing, in samples, Q16 */
	uint64_t last_q16;
};

struct dsp_zc {
	int32_t prev;
	uint32_t level;     /* peak |x| decaying with a time constant of 2^14 samples */
	int low;            /* went below -level/2 and not yet above +level/2 */
	int have_zero;      /* a rising zero crossing was seen while low: */
	int32_t zero_a;     /*   the samples around it */
	int32_t zero_b;
	uint64_t zero_index; /*  index of zero_b */
	uint64_t index;     /* samples seen */
	struct dsp_zc_seg cur, best;
};

void dsp_zc_init(struct dsp_zc *z);
void dsp_zc_push(struct dsp_zc *z, int32_t x);
/* Frequency in millihertz, 0 when fewer than two crossings were seen. */
uint64_t dsp_zc_freq_mhz(const struct dsp_zc *z, uint32_t rate);

/* Level statistics over all samples pushed (every channel), plus a per-channel estimator. */
struct dsp_stats {
	uint32_t channels;
	uint64_t samples;
	uint64_t sumsq_q32;   /* sum of (x >> 15)^2: squares of Q16 values, Q32 each */
	uint32_t peak;        /* max |x| in Q31 (2^31 for -1.0) */
	uint64_t chan_sumsq[DSP_MAX_CHANNELS];
	struct dsp_zc zc[DSP_MAX_CHANNELS];
};

void dsp_stats_init(struct dsp_stats *s, uint32_t channels);
/* frames interleaved Q31 frames of s->channels samples */
void dsp_stats_push(struct dsp_stats *s, const int32_t *q31, uint32_t frames);
/* RMS and peak in units of 1e-4 of full scale (0.5 -> 5000), rounded. */
uint32_t dsp_stats_rms_e4(const struct dsp_stats *s);
uint32_t dsp_stats_peak_e4(const struct dsp_stats *s);
/* Dominant frequency in millihertz: the estimate of the loudest channel. */
uint64_t dsp_stats_freq_mhz(const struct dsp_stats *s, uint32_t rate);

uint32_t dsp_isqrt64(uint64_t v);

#endif /* GUEST_DSP_H */
