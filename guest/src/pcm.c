/* /bin/pcm - play, record and inspect ALSA PCMs through the kernel's ioctl API (no alsa-lib).
 *
 *   pcm info                     cards, PCMs and what each stream accepts
 *   pcm play [FREQ [SECONDS]]    a sine (440 Hz, 1 s); -f FILE plays raw frames instead
 *   pcm rec [SECONDS]            capture (1 s) and measure; -o FILE keeps the raw frames
 *   pcm loop [SECONDS]           capture -> playback (1 s), measuring what passes through
 * options: -r RATE (48000) -c CHANNELS (2) -F S16|S32|FLOAT (S16) -a AMPLITUDE (0.5)
 *          -p PERIOD_FRAMES -b BUFFER_FRAMES -D DEVICE (pcmC0D0p, or a path) -v (status per period)
 *
 * Every command ends with one line "pcm: <verb> key=value ..." (or "pcm: error <what>: <why>"
 * and a non-zero exit) for scripts and tests to parse. All arithmetic is integer: the guest
 * has no FPU. Xruns (-EPIPE) are counted and recovered with PREPARE.
 */
#include "rt.h"
#include "dsp.h"
#include <sound/asound.h>

/* The kernel has no 32-bit-time STATUS here (no COMPAT_32BIT_TIME): use the time64 layout. */
struct pcm_status64 {
	int state;
	uint8_t rsvd[4];
	int64_t trigger_sec, trigger_nsec, tstamp_sec, tstamp_nsec;
	uint32_t appl_ptr, hw_ptr;
	int32_t delay;
	uint32_t avail, avail_max, overrange;
	int suspended_state;
	uint32_t audio_tstamp_data;
	int64_t audio_sec, audio_nsec, driver_sec, driver_nsec;
	uint32_t audio_tstamp_accuracy;
	uint8_t reserved[20];
};
_Static_assert(sizeof(struct pcm_status64) == 128, "snd_pcm_status64 layout");
#define PCM_IOCTL_STATUS64 _IOR('A', 0x20, struct pcm_status64)

#define MAX_SECONDS 3600

struct format {
	const char *name;
	int alsa;
	uint32_t bytes;
};

static const struct format formats[] = {
	{ "S16", SNDRV_PCM_FORMAT_S16_LE, 2 },
	{ "S32", SNDRV_PCM_FORMAT_S32_LE, 4 },
	{ "FLOAT", SNDRV_PCM_FORMAT_FLOAT_LE, 4 },
};

struct opts {
	const char *verb;
	const char *args[2];
	int nargs;
	uint32_t rate, channels, period, buffer;
	const struct format *fmt;
	uint32_t amp_q31;
	const char *dev;
	const char *in_file, *out_file;
	int verbose;
};

/* One open, configured PCM stream. */
struct pcm {
	int fd;
	int capture;
	char path[64];
	uint32_t period, buffer, frame_bytes;
	uint32_t xruns;
	uint64_t frames;
	uint32_t since_prepare; /* frames moved since the last PREPARE (period alignment) */
	/* The stream's clock as the guest sees it: the hardware pointer and the time after the first
	 * and the latest transfer that found the stream running, its pointer moved, since the last
	 * PREPARE. A transfer that had to wait returns when a period completed, so the pair describes
	 * one instant and their slope is the card's rate, whatever the start-up latency and the
	 * tool's own work. t_zero: the first transfer that found it running at 0 (clock_note). */
	uint32_t hw_first, hw_last;
	uint64_t t_first, t_last, t_zero;
	int clock_samples;
};

/* ---- output ---- */

static int fail(const char *what, const char *arg, int err)
{
	return rt_report(1, "pcm: error ", what, arg, err);
}

static int usage(const char *why)
{
	if (why) {
		rt_puts(1, "pcm: error usage: ");
		rt_puts(1, why);
		rt_puts(1, "\n");
	}
	rt_puts(2,
		"usage: pcm info\n"
		"       pcm play [FREQ [SECONDS]]   (-f FILE: play raw frames)\n"
		"       pcm rec [SECONDS]           (-o FILE: keep raw frames)\n"
		"       pcm loop [SECONDS]\n"
		"options: -r RATE (48000) -c CHANNELS (2) -F S16|S32|FLOAT (S16)\n"
		"         -a AMPLITUDE 0..1 (0.5) -p PERIOD_FRAMES -b BUFFER_FRAMES\n"
		"         -D DEVICE (pcmC0D0p or /dev/snd/...) -v (status after each period)\n");
	return why ? 2 : 0;
}

/* "k=v" helpers for the result lines */
static void kv_u(struct sb *s, const char *k, uint64_t v)
{
	sb_putc(s, ' ');
	sb_puts(s, k);
	sb_putc(s, '=');
	sb_u64(s, v);
}

static void kv_fix(struct sb *s, const char *k, uint64_t v, unsigned int decimals)
{
	sb_putc(s, ' ');
	sb_puts(s, k);
	sb_putc(s, '=');
	sb_fix(s, (int64_t)v, decimals);
}

static void kv_common(struct sb *s, const struct opts *o)
{
	kv_u(s, "rate", o->rate);
	kv_u(s, "ch", o->channels);
	sb_puts(s, " fmt=");
	sb_puts(s, o->fmt->name);
}

/* level/frequency keys: rms=0.3536 peak=0.5000 freq=1000.0 */
static void kv_levels(struct sb *s, const struct dsp_stats *st, uint32_t rate)
{
	kv_fix(s, "rms", dsp_stats_rms_e4(st), 4);
	kv_fix(s, "peak", dsp_stats_peak_e4(st), 4);
	kv_fix(s, "freq", (dsp_stats_freq_mhz(st, rate) + 50) / 100, 1);
}

/* ---- hw_params ---- */

static struct snd_mask *hw_mask(struct snd_pcm_hw_params *p, int param)
{
	return &p->masks[param - SNDRV_PCM_HW_PARAM_FIRST_MASK];
}

static struct snd_interval *hw_iv(struct snd_pcm_hw_params *p, int param)
{
	return &p->intervals[param - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];
}

/* Everything allowed: the kernel narrows it down (alsa-lib's "any"). */
static void hw_any(struct snd_pcm_hw_params *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = SNDRV_PCM_HW_PARAM_FIRST_MASK; i <= SNDRV_PCM_HW_PARAM_LAST_MASK; i++)
		memset(hw_mask(p, i), 0xff, sizeof(struct snd_mask));
	for (i = SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; i <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL; i++) {
		hw_iv(p, i)->min = 0;
		hw_iv(p, i)->max = ~0u;
	}
	p->rmask = ~0u;
	p->info = ~0u;
}

static void hw_set_mask(struct snd_pcm_hw_params *p, int param, unsigned int bit)
{
	struct snd_mask *m = hw_mask(p, param);

	memset(m, 0, sizeof(*m));
	m->bits[bit >> 5] = 1u << (bit & 31);
}

static void hw_set_iv(struct snd_pcm_hw_params *p, int param, uint32_t v)
{
	struct snd_interval *iv = hw_iv(p, param);

	iv->min = iv->max = v;
	iv->openmin = iv->openmax = 0;
	iv->integer = 1;
}

/* The closed integer range of an interval ([2,5) -> 2..4). */
static void hw_range(struct snd_pcm_hw_params *p, int param, uint32_t *lo, uint32_t *hi)
{
	struct snd_interval *iv = hw_iv(p, param);

	*lo = iv->min + (iv->openmin ? 1 : 0);
	*hi = iv->max - (iv->openmax && iv->max ? 1 : 0);
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int hw_refine(int fd, struct snd_pcm_hw_params *p)
{
	p->rmask = ~0u;
	return ioctl(fd, SNDRV_PCM_IOCTL_HW_REFINE, p);
}

/* Negotiates access/format/channels/rate exactly, and period/buffer as asked or near 20 ms x4. */
static int pcm_hw_setup(struct pcm *pcm, const struct opts *o)
{
	struct snd_pcm_hw_params p;
	uint32_t lo, hi;

	hw_any(&p);
	hw_set_mask(&p, SNDRV_PCM_HW_PARAM_ACCESS, SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	hw_set_mask(&p, SNDRV_PCM_HW_PARAM_FORMAT, (unsigned int)o->fmt->alsa);
	hw_set_mask(&p, SNDRV_PCM_HW_PARAM_SUBFORMAT, SNDRV_PCM_SUBFORMAT_STD);
	hw_set_iv(&p, SNDRV_PCM_HW_PARAM_CHANNELS, o->channels);
	hw_set_iv(&p, SNDRV_PCM_HW_PARAM_RATE, o->rate);
	if (hw_refine(pcm->fd, &p) < 0)
		return fail("hw_params rate/channels/format on", pcm->path, errno);

	hw_range(&p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, &lo, &hi);
	hw_set_iv(&p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, o->period ? o->period : clamp_u32(o->rate / 50, lo, hi));
	if (hw_refine(pcm->fd, &p) < 0)
		return fail("hw_params period size on", pcm->path, errno);

	if (o->buffer) {
		hw_set_iv(&p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE, o->buffer);
	} else {
		hw_range(&p, SNDRV_PCM_HW_PARAM_PERIODS, &lo, &hi);
		hw_set_iv(&p, SNDRV_PCM_HW_PARAM_PERIODS, clamp_u32(4, lo, hi));
	}
	p.rmask = ~0u;
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_HW_PARAMS, &p) < 0)
		return fail("hw_params buffer size on", pcm->path, errno);
	pcm->period = hw_iv(&p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE)->min;
	pcm->buffer = hw_iv(&p, SNDRV_PCM_HW_PARAM_BUFFER_SIZE)->min;
	pcm->frame_bytes = o->fmt->bytes * o->channels;
	return 0;
}

/* Playback starts once the buffer is full; capture on the first read. Xrun when the buffer
 * runs dry (playback) or overflows (capture). */
static int pcm_sw_setup(struct pcm *pcm)
{
	struct snd_pcm_sw_params sw;
	uint32_t boundary = pcm->buffer;
	int tstamp_type = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC; /* the clock rt_now_ns() reads */

	while (boundary <= 0x7fffffffu / 2 - pcm->buffer)
		boundary *= 2;
	memset(&sw, 0, sizeof(sw));
	sw.tstamp_mode = SNDRV_PCM_TSTAMP_ENABLE; /* STATUS then says when hw_ptr last moved (-v) */
	sw.period_step = 1;
	sw.avail_min = pcm->period;
	sw.start_threshold = pcm->capture ? 1 : pcm->buffer;
	sw.stop_threshold = pcm->buffer;
	sw.boundary = boundary;
	sw.proto = SNDRV_PCM_VERSION;
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_TTSTAMP, &tstamp_type) < 0)
		return fail("tstamp type on", pcm->path, errno);
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_SW_PARAMS, &sw) < 0)
		return fail("sw_params on", pcm->path, errno);
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_PREPARE, 0) < 0)
		return fail("prepare", pcm->path, errno);
	return 0;
}

static void dev_path(char *out, size_t cap, const char *dev, int capture)
{
	if (!dev) {
		strlcpy(out, capture ? "/dev/snd/pcmC0D0c" : "/dev/snd/pcmC0D0p", cap);
		return;
	}
	out[0] = 0;
	if (!strchr(dev, '/'))
		strlcpy(out, "/dev/snd/", cap);
	strlcat(out, dev, cap);
}

static int pcm_open(struct pcm *pcm, const struct opts *o, const char *path, int capture)
{
	SB_DECL(s, 160);

	memset(pcm, 0, sizeof(*pcm));
	pcm->capture = capture;
	strlcpy(pcm->path, path, sizeof(pcm->path));
	pcm->fd = open(pcm->path, O_RDWR, 0);
	if (pcm->fd < 0)
		return fail("open", pcm->path, errno);
	if (pcm_hw_setup(pcm, o) || pcm_sw_setup(pcm))
		return 1;
	sb_puts(&s, pcm->path);
	sb_puts(&s, ": ");
	sb_puts(&s, o->fmt->name);
	kv_u(&s, "ch", o->channels);
	kv_u(&s, "rate", o->rate);
	kv_u(&s, "period", pcm->period);
	kv_u(&s, "buffer", pcm->buffer);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

static const char *state_name(int st)
{
	static const char *const names[] = { "OPEN", "SETUP", "PREPARED", "RUNNING", "XRUN",
					     "DRAINING", "PAUSED", "SUSPENDED", "DISCONNECTED" };

	return st >= 0 && st < (int)RT_ARRAY_LEN(names) ? names[st] : "?";
}

static void pcm_print_status(struct pcm *pcm)
{
	struct pcm_status64 st;
	SB_DECL(s, 200);

	memset(&st, 0, sizeof(st));
	if (ioctl(pcm->fd, PCM_IOCTL_STATUS64, &st) < 0)
		return;
	sb_puts(&s, pcm->capture ? "  capture " : "  playback ");
	sb_puts(&s, state_name(st.state));
	kv_u(&s, "hw_ptr", st.hw_ptr);
	kv_u(&s, "appl_ptr", st.appl_ptr);
	kv_u(&s, "avail", st.avail);
	sb_puts(&s, " delay=");
	sb_i64(&s, st.delay);
	/* guest time since the trigger (START): now, and at the last hw_ptr update */
	{
		int64_t trig = st.trigger_sec * 1000000000ll + st.trigger_nsec;
		int64_t upd = st.tstamp_sec * 1000000000ll + st.tstamp_nsec;

		sb_puts(&s, " t_ms=");
		sb_i64(&s, ((int64_t)rt_now_ns() - trig) / 1000000);
		sb_puts(&s, " hw_ms=");
		sb_i64(&s, (upd - trig) / 1000000);
	}
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static void clock_reset(struct pcm *pcm)
{
	pcm->clock_samples = 0;
	pcm->t_zero = 0;
}

static void clock_note(struct pcm *pcm, uint32_t hw)
{
	uint64_t now = rt_now_ns();

	/* The write that starts playback finds the stream running at 0 at once: from there to the
	 * first period is the device's start-up latency, not its rate (5 ms late is 0.5 % of a 1 s
	 * stream, and with a 2-period buffer that lateness stays, as the device may not catch up
	 * in a burst). Kept aside for a stream too short for another pair (kv_rate). */
	if (hw == 0) {
		if (pcm->t_zero == 0 && pcm->clock_samples == 0)
			pcm->t_zero = now;
		return;
	}
	if (pcm->clock_samples++ == 0) {
		pcm->hw_first = hw;
		pcm->t_first = now;
	}
	pcm->hw_last = hw;
	pcm->t_last = now;
}

static void clock_sample(struct pcm *pcm)
{
	struct pcm_status64 st;

	memset(&st, 0, sizeof(st));
	if (ioctl(pcm->fd, PCM_IOCTL_STATUS64, &st) == 0 && st.state == SNDRV_PCM_STATE_RUNNING)
		clock_note(pcm, st.hw_ptr);
}

/* "k=RATE" (Hz, two decimals) measured between the clock samples (with one, from the start at
 * 0); nothing without two of them. */
static void kv_rate(struct sb *s, const char *k, const struct pcm *pcm)
{
	uint32_t hw0 = pcm->hw_first;
	uint64_t t0 = pcm->t_first;
	uint64_t dt;

	if (pcm->clock_samples == 1 && pcm->t_zero != 0) {
		hw0 = 0;
		t0 = pcm->t_zero;
	} else if (pcm->clock_samples < 2) {
		return;
	}
	dt = pcm->t_last - t0;
	if (dt == 0 || pcm->hw_last <= hw0)
		return;
	kv_fix(s, k, (uint64_t)(pcm->hw_last - hw0) * 100000000000ull / dt, 2);
}

/* Moves all `frames` frames, recovering from xruns. Returns 0 or an errno. */
static int pcm_xfer(struct pcm *pcm, void *buf, uint32_t frames, int verbose)
{
	uint8_t *p = buf;

	while (frames) {
		struct snd_xferi x;

		x.result = 0;
		x.buf = p;
		x.frames = frames;
		if (ioctl(pcm->fd, pcm->capture ? SNDRV_PCM_IOCTL_READI_FRAMES :
			  SNDRV_PCM_IOCTL_WRITEI_FRAMES, &x) < 0) {
			int err = errno;

			if (err == EPIPE) {
				pcm->xruns++;
				if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_PREPARE, 0) < 0)
					return errno;
				pcm->since_prepare = 0;
				clock_reset(pcm);
				continue;
			}
			if (err == ESTRPIPE) {
				while (ioctl(pcm->fd, SNDRV_PCM_IOCTL_RESUME, 0) < 0 && errno == EAGAIN)
					rt_sleep_ns(10000000);
				if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_PREPARE, 0) < 0)
					return errno;
				pcm->since_prepare = 0;
				clock_reset(pcm);
				continue;
			}
			if (verbose)
				pcm_print_status(pcm);
			return err;
		}
		frames -= (uint32_t)x.result;
		p += (uint32_t)x.result * pcm->frame_bytes;
		pcm->frames += (uint32_t)x.result;
		pcm->since_prepare += (uint32_t)x.result;
		clock_sample(pcm);
	}
	if (verbose)
		pcm_print_status(pcm);
	return 0;
}

/* Plays what is queued, then returns 0 or an errno. Linux's virtio-snd driver hands the device
 * whole periods only (virtsnd_pcm_msg_send), so a last partial period would never play and DRAIN
 * would time out with EIO: pad it with silence first, as alsa-lib's "drain silence" does. `buf`
 * holds `buf_frames` frames; the padding is not counted in pcm->frames. */
static int pcm_drain(struct pcm *pcm, void *buf, uint32_t buf_frames)
{
	uint32_t pad = (pcm->period - pcm->since_prepare % pcm->period) % pcm->period;
	uint64_t frames = pcm->frames;

	memset(buf, 0, (size_t)buf_frames * pcm->frame_bytes);
	while (pad) {
		uint32_t n = pad < buf_frames ? pad : buf_frames;
		int err = pcm_xfer(pcm, buf, n, 0);

		if (err)
			return err;
		pad -= n;
	}
	pcm->frames = frames;
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_DRAIN, 0) < 0)
		return errno;
	/* Drained: everything written since PREPARE (the padding included) has played. Its time is
	 * the rate's last sample only for a stream too short for another pair: the last periods go
	 * back one by one once nothing more is queued, and in `loop` while the capture stream
	 * stops beside them, which a loaded host can delay by tens of ms (latency, not rate). */
	if (pcm->clock_samples < 2)
		clock_note(pcm, pcm->since_prepare);
	return 0;
}

/* ---- sample formats ---- */

static void q31_to_fmt(const int32_t *src, void *dst, uint32_t n, const struct format *f)
{
	uint32_t i;

	if (f->alsa == SNDRV_PCM_FORMAT_S16_LE) {
		int16_t *d = dst;

		for (i = 0; i < n; i++)
			d[i] = dsp_q31_to_s16(src[i]);
	} else if (f->alsa == SNDRV_PCM_FORMAT_S32_LE) {
		memcpy(dst, src, n * 4);
	} else {
		uint32_t *d = dst;

		for (i = 0; i < n; i++)
			d[i] = dsp_q31_to_float_bits(src[i]);
	}
}

static void fmt_to_q31(const void *src, int32_t *dst, uint32_t n, const struct format *f)
{
	uint32_t i;

	if (f->alsa == SNDRV_PCM_FORMAT_S16_LE) {
		const int16_t *s = src;

		for (i = 0; i < n; i++)
			dst[i] = (int32_t)((uint32_t)(int32_t)s[i] << 16);
	} else if (f->alsa == SNDRV_PCM_FORMAT_S32_LE) {
		memcpy(dst, src, n * 4);
	} else {
		const uint32_t *s = src;

		for (i = 0; i < n; i++)
			dst[i] = dsp_float_bits_to_q31(s[i]);
	}
}

/* Buffers for one period: Q31 samples and the same in the stream's format. */
struct period_bufs {
	int32_t *q31;
	void *raw;
};

static int bufs_alloc(struct period_bufs *b, uint32_t period, uint32_t channels)
{
	b->q31 = malloc((size_t)period * channels * 4);
	b->raw = malloc((size_t)period * channels * 4);
	return b->q31 && b->raw ? 0 : fail("allocating period buffers", 0, ENOMEM);
}

static int write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads up to n bytes, short only at end of file. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static uint64_t ms_to_frames(uint64_t ms, uint32_t rate)
{
	return (ms * rate + 500) / 1000;
}

static int parse_seconds(const char *arg, uint64_t *ms)
{
	if (!arg) {
		*ms = 1000;
		return 0;
	}
	if (rt_parse_fixed(arg, 3, ms) < 0 || *ms == 0 || *ms > MAX_SECONDS * 1000ull)
		return -1;
	return 0;
}

/* ---- verbs ---- */

static int cmd_play(const struct opts *o)
{
	struct pcm pcm;
	struct period_bufs b;
	struct dsp_stats st;
	uint64_t freq_mhz = 440000, ms, total, t0;
	uint32_t phase = 0, inc, ch = o->channels;
	int in_fd = -1, err = 0;
	char path[64];
	SB_DECL(s, 256);

	if (o->in_file) {
		if (o->nargs > 0)
			return usage("play -f FILE takes no FREQ or SECONDS");
		in_fd = open(o->in_file, O_RDONLY, 0);
		if (in_fd < 0)
			return fail("open", o->in_file, errno);
		ms = 0;
	} else {
		if (o->nargs > 0 && (rt_parse_fixed(o->args[0], 3, &freq_mhz) < 0 || freq_mhz == 0 ||
				     freq_mhz >= (uint64_t)o->rate * 500))
			return usage("FREQ must be above 0 and below half the rate");
		if (parse_seconds(o->nargs > 1 ? o->args[1] : 0, &ms) < 0)
			return usage("SECONDS must be above 0 and at most 3600");
	}
	dev_path(path, sizeof(path), o->dev, 0);
	if (pcm_open(&pcm, o, path, 0) || bufs_alloc(&b, pcm.period, ch))
		return 1;
	dsp_stats_init(&st, ch);
	inc = dsp_phase_inc((uint32_t)freq_mhz, o->rate);
	total = in_fd >= 0 ? ~0ull : ms_to_frames(ms, o->rate);
	t0 = rt_now_ns();
	while (total) {
		uint32_t n = total < pcm.period ? (uint32_t)total : pcm.period, f, c;

		if (in_fd >= 0) {
			ssize_t got = read_full(in_fd, b.raw, (size_t)n * pcm.frame_bytes);

			if (got < 0) {
				err = errno;
				break;
			}
			n = (uint32_t)got / pcm.frame_bytes;
			if (n == 0)
				break;
			fmt_to_q31(b.raw, b.q31, n * ch, o->fmt);
		} else {
			for (f = 0; f < n; f++) {
				int32_t v = dsp_mul_q31(dsp_sin_q31(phase), (int32_t)o->amp_q31);

				for (c = 0; c < ch; c++)
					b.q31[f * ch + c] = v;
				phase += inc;
			}
			q31_to_fmt(b.q31, b.raw, n * ch, o->fmt);
			total -= n;
		}
		if (in_fd >= 0)
			dsp_stats_push(&st, b.q31, n); /* a sine's levels are known: skip the work */
		err = pcm_xfer(&pcm, b.raw, n, o->verbose);
		if (err)
			break;
	}
	if (err)
		return fail("write to", pcm.path, err);
	err = pcm_drain(&pcm, b.raw, pcm.period);
	if (err)
		return fail("drain", pcm.path, err);
	sb_puts(&s, "pcm: play");
	kv_u(&s, "frames", pcm.frames);
	kv_common(&s, o);
	if (in_fd >= 0)
		kv_levels(&s, &st, o->rate);
	else
		kv_fix(&s, "freq", (freq_mhz + 50) / 100, 1);
	kv_u(&s, "xruns", pcm.xruns);
	kv_u(&s, "ms", (rt_now_ns() - t0) / 1000000);
	kv_rate(&s, "rate_hz", &pcm);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

static int cmd_rec(const struct opts *o)
{
	struct pcm pcm;
	struct period_bufs b;
	struct dsp_stats st;
	uint64_t ms, total, t0;
	int out_fd = -1, err = 0;
	char path[64];
	SB_DECL(s, 256);

	if (parse_seconds(o->nargs > 0 ? o->args[0] : 0, &ms) < 0)
		return usage("SECONDS must be above 0 and at most 3600");
	if (o->out_file) {
		out_fd = open(o->out_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out_fd < 0)
			return fail("open", o->out_file, errno);
	}
	dev_path(path, sizeof(path), o->dev, 1);
	if (pcm_open(&pcm, o, path, 1) || bufs_alloc(&b, pcm.period, o->channels))
		return 1;
	dsp_stats_init(&st, o->channels);
	total = ms_to_frames(ms, o->rate);
	t0 = rt_now_ns();
	while (total) {
		uint32_t n = total < pcm.period ? (uint32_t)total : pcm.period;

		err = pcm_xfer(&pcm, b.raw, n, o->verbose);
		if (err)
			break;
		fmt_to_q31(b.raw, b.q31, n * o->channels, o->fmt);
		dsp_stats_push(&st, b.q31, n);
		if (out_fd >= 0 && write_full(out_fd, b.raw, (size_t)n * pcm.frame_bytes) < 0)
			return fail("write", o->out_file, errno);
		total -= n;
	}
	ioctl(pcm.fd, SNDRV_PCM_IOCTL_DROP, 0);
	if (err)
		return fail("read from", pcm.path, err);
	sb_puts(&s, "pcm: rec");
	kv_u(&s, "frames", pcm.frames);
	kv_common(&s, o);
	kv_levels(&s, &st, o->rate);
	kv_u(&s, "xruns", pcm.xruns);
	kv_u(&s, "ms", (rt_now_ns() - t0) / 1000000);
	kv_rate(&s, "rate_hz", &pcm);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

/* The capture twin of a playback device name and vice versa: pcmC0D0p <-> pcmC0D0c. */
static void twin_path(char *out, size_t cap, const char *path)
{
	size_t n;

	strlcpy(out, path, cap);
	n = strlen(out);
	if (n && (out[n - 1] == 'p' || out[n - 1] == 'c'))
		out[n - 1] = out[n - 1] == 'p' ? 'c' : 'p';
}

static int cmd_loop(const struct opts *o)
{
	struct pcm in, out;
	struct period_bufs b;
	struct dsp_stats st;
	uint64_t ms, total, t0;
	int err_in = 0, err_out = 0;
	char path[64], in_path[64], out_path[64];
	SB_DECL(s, 320);

	if (parse_seconds(o->nargs > 0 ? o->args[0] : 0, &ms) < 0)
		return usage("SECONDS must be above 0 and at most 3600");
	dev_path(path, sizeof(path), o->dev, 1);
	if (path[strlen(path) - 1] == 'p') {
		strlcpy(out_path, path, sizeof(out_path));
		twin_path(in_path, sizeof(in_path), path);
	} else {
		strlcpy(in_path, path, sizeof(in_path));
		twin_path(out_path, sizeof(out_path), path);
	}
	if (pcm_open(&in, o, in_path, 1) || pcm_open(&out, o, out_path, 0))
		return 1;
	/* both sides move the same periods: the smaller one fits both */
	if (out.period < in.period)
		in.period = out.period;
	if (bufs_alloc(&b, in.period, o->channels))
		return 1;
	dsp_stats_init(&st, o->channels);
	total = ms_to_frames(ms, o->rate);
	t0 = rt_now_ns();
	while (total) {
		uint32_t n = total < in.period ? (uint32_t)total : in.period;

		err_in = pcm_xfer(&in, b.raw, n, o->verbose);
		if (err_in)
			break;
		fmt_to_q31(b.raw, b.q31, n * o->channels, o->fmt);
		dsp_stats_push(&st, b.q31, n);
		err_out = pcm_xfer(&out, b.raw, n, o->verbose);
		if (err_out)
			break;
		total -= n;
	}
	ioctl(in.fd, SNDRV_PCM_IOCTL_DROP, 0);
	if (err_in)
		return fail("read from", in.path, err_in);
	if (err_out)
		return fail("write to", out.path, err_out);
	err_out = pcm_drain(&out, b.raw, in.period);
	if (err_out)
		return fail("drain", out.path, err_out);
	sb_puts(&s, "pcm: loop");
	kv_common(&s, o);
	kv_u(&s, "rec_frames", in.frames);
	kv_u(&s, "rec_xruns", in.xruns);
	kv_u(&s, "play_frames", out.frames);
	kv_u(&s, "play_xruns", out.xruns);
	kv_levels(&s, &st, o->rate);
	kv_u(&s, "ms", (rt_now_ns() - t0) / 1000000);
	kv_rate(&s, "rec_rate_hz", &in);
	kv_rate(&s, "play_rate_hz", &out);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

/* ---- info ---- */

static const char *const format_names[] = {
	"S8", "U8", "S16_LE", "S16_BE", "U16_LE", "U16_BE", "S24_LE", "S24_BE", "U24_LE",
	"U24_BE", "S32_LE", "S32_BE", "U32_LE", "U32_BE", "FLOAT_LE", "FLOAT_BE", "FLOAT64_LE",
	"FLOAT64_BE",
};

static const uint32_t std_rates[] = { 5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000,
				      64000, 88200, 96000, 176400, 192000, 384000 };

static void kv_range(struct sb *s, const char *k, struct snd_pcm_hw_params *p, int param)
{
	uint32_t lo, hi;

	hw_range(p, param, &lo, &hi);
	sb_putc(s, ' ');
	sb_puts(s, k);
	sb_putc(s, '=');
	sb_u64(s, lo);
	sb_putc(s, '-');
	sb_u64(s, hi);
}

/* One line per stream: what HW_REFINE allows with nothing fixed, and which standard rates a
 * stream really accepts (the rate interval alone hides gaps). */
static void info_stream(struct sb *s, int fd)
{
	struct snd_pcm_hw_params any, p;
	unsigned int i, first = 1;

	hw_any(&any);
	if (hw_refine(fd, &any) < 0) {
		sb_puts(s, " hw_refine failed: ");
		sb_puts(s, rt_strerror(errno));
		return;
	}
	sb_puts(s, " rates=");
	for (i = 0; i < RT_ARRAY_LEN(std_rates); i++) {
		p = any;
		hw_set_iv(&p, SNDRV_PCM_HW_PARAM_RATE, std_rates[i]);
		if (hw_refine(fd, &p) == 0) {
			if (!first)
				sb_putc(s, ',');
			sb_u64(s, std_rates[i]);
			first = 0;
		}
	}
	kv_range(s, "channels", &any, SNDRV_PCM_HW_PARAM_CHANNELS);
	sb_puts(s, " formats=");
	first = 1;
	for (i = 0; i < 64; i++) {
		if (!(hw_mask(&any, SNDRV_PCM_HW_PARAM_FORMAT)->bits[i >> 5] & (1u << (i & 31))))
			continue;
		if (!first)
			sb_putc(s, ',');
		if (i < RT_ARRAY_LEN(format_names)) {
			sb_puts(s, format_names[i]);
		} else {
			sb_puts(s, "fmt");
			sb_u64(s, i);
		}
		first = 0;
	}
	kv_range(s, "period_bytes", &any, SNDRV_PCM_HW_PARAM_PERIOD_BYTES);
	kv_range(s, "buffer_bytes", &any, SNDRV_PCM_HW_PARAM_BUFFER_BYTES);
	kv_range(s, "periods", &any, SNDRV_PCM_HW_PARAM_PERIODS);
}

static void info_card_header(int card, int fd)
{
	struct snd_ctl_card_info ci;
	SB_DECL(s, 320);

	memset(&ci, 0, sizeof(ci));
	if (ioctl(fd, SNDRV_CTL_IOCTL_CARD_INFO, &ci) < 0)
		return;
	sb_puts(&s, "card ");
	sb_u64(&s, (uint64_t)card);
	sb_puts(&s, ": ");
	sb_putn(&s, (const char *)ci.id, sizeof(ci.id));
	sb_puts(&s, " [");
	sb_putn(&s, (const char *)ci.name, sizeof(ci.name));
	sb_puts(&s, "] driver=");
	sb_putn(&s, (const char *)ci.driver, sizeof(ci.driver));
	sb_puts(&s, ": ");
	sb_putn(&s, (const char *)ci.longname, sizeof(ci.longname));
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

/* Prints every stream of one card; counts them into streams[0] (playback), streams[1]. */
static void info_card(int card, int ctl, uint32_t streams[2])
{
	int dev = -1, dir;

	info_card_header(card, ctl);
	while (ioctl(ctl, SNDRV_CTL_IOCTL_PCM_NEXT_DEVICE, &dev) == 0 && dev >= 0) {
		for (dir = 0; dir < 2; dir++) {
			struct snd_pcm_info pi;
			char node[48] = "/dev/snd/pcmC";
			char num[12];
			SB_DECL(s, 640);
			int fd;

			memset(&pi, 0, sizeof(pi));
			pi.device = (unsigned int)dev;
			pi.stream = dir;
			if (ioctl(ctl, SNDRV_CTL_IOCTL_PCM_INFO, &pi) < 0)
				continue; /* no such direction on this device */
			streams[dir]++;
			utoa_r((unsigned long)card, num);
			strlcat(node, num, sizeof(node));
			strlcat(node, "D", sizeof(node));
			utoa_r((unsigned long)dev, num);
			strlcat(node, num, sizeof(node));
			strlcat(node, dir ? "c" : "p", sizeof(node));
			sb_puts(&s, "  ");
			sb_puts(&s, node + 9);
			sb_puts(&s, dir ? " capture \"" : " playback \"");
			sb_putn(&s, (const char *)pi.name, sizeof(pi.name));
			sb_puts(&s, "\" subdevices=");
			sb_u64(&s, pi.subdevices_count);
			sb_puts(&s, "\n   ");
			fd = open(node, O_RDWR | O_NONBLOCK, 0);
			if (fd < 0) {
				sb_puts(&s, " open failed: ");
				sb_puts(&s, rt_strerror(errno));
			} else {
				info_stream(&s, fd);
				close(fd);
			}
			sb_putc(&s, '\n');
			sb_flush(&s, 1);
		}
	}
}

static int cmd_info(const struct opts *o)
{
	uint32_t streams[2] = { 0, 0 }, cards = 0;
	int card;
	SB_DECL(s, 128);

	for (card = 0; card < 8; card++) {
		char path[32] = "/dev/snd/controlC";
		char num[12];
		int fd;

		utoa_r((unsigned long)card, num);
		strlcat(path, num, sizeof(path));
		fd = open(path, O_RDONLY, 0);
		if (fd < 0) {
			if (errno != ENOENT)
				fail("open", path, errno);
			continue;
		}
		cards++;
		info_card(card, fd, streams);
		close(fd);
	}
	if (!cards)
		return fail("no sound card: open", "/dev/snd/controlC0", ENOENT);
	sb_puts(&s, "pcm: info");
	kv_u(&s, "cards", cards);
	kv_u(&s, "playback", streams[0]);
	kv_u(&s, "capture", streams[1]);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

/* ---- options ---- */

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->rate = 48000;
	o->channels = 2;
	o->fmt = &formats[0];
	o->amp_q31 = 0x40000000u;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		uint64_t x;
		unsigned int k;

		if (a[0] != '-' || !a[1]) {
			if (!o->verb)
				o->verb = a;
			else if (o->nargs < 2)
				o->args[o->nargs++] = a;
			else
				return usage("too many arguments");
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(0) - 1;
		if (!strcmp(a, "-v")) {
			o->verbose = 1;
			continue;
		}
		if (a[2] || i + 1 >= argc)
			return usage("unknown option or missing value");
		v = argv[++i];
		switch (a[1]) {
		case 'r':
			if (rt_parse_u32(v, &o->rate) < 0 || o->rate < 1000 || o->rate > 768000)
				return usage("-r RATE: 1000..768000");
			break;
		case 'c':
			if (rt_parse_u32(v, &o->channels) < 0 || !o->channels ||
			    o->channels > DSP_MAX_CHANNELS)
				return usage("-c CHANNELS: 1..8");
			break;
		case 'F':
			o->fmt = 0;
			for (k = 0; k < RT_ARRAY_LEN(formats); k++)
				if (!strcmp(v, formats[k].name))
					o->fmt = &formats[k];
			if (!o->fmt)
				return usage("-F FORMAT: S16, S32 or FLOAT");
			break;
		case 'a':
			if (rt_parse_fixed(v, 6, &x) < 0 || x > 1000000)
				return usage("-a AMPLITUDE: 0..1");
			o->amp_q31 = (uint32_t)((x * 0x7fffffffull + 500000) / 1000000);
			break;
		case 'p':
			if (rt_parse_u32(v, &o->period) < 0 || !o->period)
				return usage("-p PERIOD_FRAMES: a positive number");
			break;
		case 'b':
			if (rt_parse_u32(v, &o->buffer) < 0 || !o->buffer)
				return usage("-b BUFFER_FRAMES: a positive number");
			break;
		case 'D':
			o->dev = v;
			break;
		case 'f':
			o->in_file = v;
			break;
		case 'o':
			o->out_file = v;
			break;
		default:
			return usage("unknown option");
		}
	}
	if (!o->verb)
		return usage("missing command");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int r = parse_opts(argc, argv, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (!strcmp(o.verb, "info"))
		return cmd_info(&o);
	if (!strcmp(o.verb, "play"))
		return cmd_play(&o);
	if (!strcmp(o.verb, "rec"))
		return cmd_rec(&o);
	if (!strcmp(o.verb, "loop"))
		return cmd_loop(&o);
	return usage("unknown command (info, play, rec, loop)");
}
